import Foundation

/// BERT's normaliser (`BertNormalizer` in tokenizer.json), in the reference's
/// order: clean text → space out CJK ideographs → strip accents (NFD, then
/// drop nonspacing marks) → lower-case, one character at a time (so a final
/// Σ becomes σ, not ς).
public struct BertNormalizer: Sendable, Equatable {
    public var cleanText: Bool
    public var handleChineseCharacters: Bool
    /// nil: follow `lowercase`, as the reference does.
    public var stripAccents: Bool?
    public var lowercase: Bool

    public init(cleanText: Bool = true, handleChineseCharacters: Bool = true, stripAccents: Bool? = nil, lowercase: Bool = true) {
        self.cleanText = cleanText
        self.handleChineseCharacters = handleChineseCharacters
        self.stripAccents = stripAccents
        self.lowercase = lowercase
    }

    public func normalize(_ text: Substring) -> [Unicode.Scalar] {
        var scalars: [Unicode.Scalar] = []
        scalars.reserveCapacity(text.unicodeScalars.count + 8)
        var isASCII = true
        for scalar in text.unicodeScalars {
            if cleanText {
                if BertCharacterClasses.isRemovedControl(scalar) { continue }
                if BertCharacterClasses.isWhitespace(scalar) {
                    scalars.append(" ")
                    continue
                }
            }
            if handleChineseCharacters && BertCharacterClasses.isChineseCharacter(scalar) {
                scalars.append(" ")
                scalars.append(scalar)
                scalars.append(" ")
                isASCII = false
                continue
            }
            if scalar.value >= 0x80 { isASCII = false }
            scalars.append(scalar)
        }

        if stripAccents ?? lowercase, !isASCII {
            var string = String.UnicodeScalarView()
            string.append(contentsOf: scalars)
            let decomposed = String(string).decomposedStringWithCanonicalMapping
            scalars.removeAll(keepingCapacity: true)
            for scalar in decomposed.unicodeScalars where !BertCharacterClasses.isStrippedMark(scalar) {
                scalars.append(scalar)
            }
        }

        if lowercase {
            if isASCII {
                for i in scalars.indices where scalars[i].value >= 65 && scalars[i].value <= 90 {
                    scalars[i] = Unicode.Scalar(UInt8(truncatingIfNeeded: scalars[i].value + 32))
                }
            } else {
                var lowered: [Unicode.Scalar] = []
                lowered.reserveCapacity(scalars.count)
                for scalar in scalars {
                    if scalar.value < 0x80 {
                        lowered.append(scalar.value >= 65 && scalar.value <= 90 ? Unicode.Scalar(UInt8(truncatingIfNeeded: scalar.value + 32)) : scalar)
                    } else if scalar.properties.changesWhenLowercased {
                        lowered.append(contentsOf: scalar.properties.lowercaseMapping.unicodeScalars)
                    } else {
                        lowered.append(scalar)
                    }
                }
                scalars = lowered
            }
        }
        return scalars
    }
}
