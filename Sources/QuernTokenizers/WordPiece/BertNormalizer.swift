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
            scalars = Self.canonicallyDecomposed(scalars).filter { !BertCharacterClasses.isStrippedMark($0) }
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

    /// NFD of `scalars`, in pieces. Foundation's decomposition takes time
    /// quadratic in the length of one string (a megabyte of "é" takes
    /// seconds), so long text is decomposed a few hundred scalars at a
    /// time, cut only before a scalar whose decomposition starts with a
    /// starter (canonical combining class 0): canonical reordering never
    /// moves a mark across such a scalar, so the pieces' NFDs joined are
    /// the NFD of the whole.
    static func canonicallyDecomposed(_ scalars: [Unicode.Scalar]) -> [Unicode.Scalar] {
        let preferredPiece = 256
        var result: [Unicode.Scalar] = []
        result.reserveCapacity(scalars.count + scalars.count / 4)
        func decompose(_ piece: ArraySlice<Unicode.Scalar>) {
            var view = String.UnicodeScalarView()
            view.append(contentsOf: piece)
            result.append(contentsOf: String(view).decomposedStringWithCanonicalMapping.unicodeScalars)
        }
        var start = scalars.startIndex
        var index = start + preferredPiece
        while index < scalars.endIndex {
            if startsWithStarter(scalars[index]) {
                decompose(scalars[start..<index])
                start = index
                index += preferredPiece
            } else {
                index += 1
            }
        }
        decompose(scalars[start...])
        return result
    }

    private static func startsWithStarter(_ scalar: Unicode.Scalar) -> Bool {
        if scalar.isASCII { return true }
        guard scalar.properties.canonicalCombiningClass == .notReordered else { return false }
        // A few class-0 scalars (Tibetan vowel signs such as U+0F73)
        // decompose into marks of non-zero class.
        let decomposed = String(Character(scalar)).decomposedStringWithCanonicalMapping.unicodeScalars
        return decomposed.first?.properties.canonicalCombiningClass == .notReordered
    }
}
