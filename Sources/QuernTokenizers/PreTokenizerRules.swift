/// The word-splitting rules that run before BPE, named as GGUF's
/// `tokenizer.ggml.pre` names them. Each reproduces the regular expressions
/// llama.cpp (and Hugging Face tokenizers) apply for that name:
///
/// - `gpt2`: `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`
/// - `smollm` (also StarCoder's): first every number character on its own
///   (`\p{N}`), then the gpt2 rules inside each piece.
///
/// Other names are refused, since a wrong split silently changes the ids.
public enum PreTokenizerRules: String, Sendable, CaseIterable {
    case gpt2
    case smollm

    public init(ggufName: String) throws(TokenizerError) {
        switch ggufName {
        case "gpt2", "default": self = .gpt2
        case "smollm", "starcoder", "refact", "codeshell", "command-r", "exaone": self = .smollm
        default:
            throw TokenizerError(.unsupported, "pre-tokenizer \"\(ggufName)\" is not supported (supported: gpt2, smollm and its aliases starcoder, refact, codeshell, command-r, exaone)")
        }
    }

    public func split(_ text: String) -> [String] {
        let scalars = Array(text.unicodeScalars)
        var pieces: [ArraySlice<Unicode.Scalar>] = []
        switch self {
        case .gpt2:
            pieces = Self.gpt2Split(scalars[...])
        case .smollm:
            var start = 0
            for (index, scalar) in scalars.enumerated() where CharacterClass.isNumber(scalar) {
                if start < index { pieces += Self.gpt2Split(scalars[start..<index]) }
                pieces.append(scalars[index...index])
                start = index + 1
            }
            if start < scalars.count { pieces += Self.gpt2Split(scalars[start...]) }
        }
        return pieces.map { slice in
            var word = ""
            word.unicodeScalars.append(contentsOf: slice)
            return word
        }
    }

    /// The GPT-2 expression, matched by hand over one piece of text (a
    /// lookahead never sees past the piece, as with llama.cpp's offsets).
    static func gpt2Split(_ text: ArraySlice<Unicode.Scalar>) -> [ArraySlice<Unicode.Scalar>] {
        var result: [ArraySlice<Unicode.Scalar>] = []
        let end = text.endIndex
        var position = text.startIndex
        func scalar(_ i: Int) -> Unicode.Scalar? { i < end ? text[i] : nil }
        func kind(_ i: Int) -> CharacterClass? { i < end ? CharacterClass(text[i]) : nil }

        while position < end {
            let current = text[position]
            // 's 't 're 've 'm 'll 'd
            if current == "'", let next = scalar(position + 1) {
                if "stmd".unicodeScalars.contains(next) {
                    result.append(text[position..<position + 2])
                    position += 2
                    continue
                }
                if let third = scalar(position + 2),
                   (next == "r" && third == "e") || (next == "v" && third == "e") || (next == "l" && third == "l") {
                    result.append(text[position..<position + 3])
                    position += 3
                    continue
                }
            }
            let start = position
            let leadingSpace = current == " "
            let head = leadingSpace ? kind(position + 1) : kind(position)
            if let head, head != .whitespace {
                // ` ?\p{L}+`, ` ?\p{N}+` or ` ?[^\s\p{L}\p{N}]+`
                var i = position + (leadingSpace ? 1 : 0)
                while let k = kind(i), k == head { i += 1 }
                result.append(text[start..<i])
                position = i
                continue
            }
            var spaces = 0
            while kind(position + spaces) == .whitespace { spaces += 1 }
            if spaces > 1 && position + spaces < end {
                // `\s+(?!\S)`: leave the last space to lead the next word.
                result.append(text[position..<position + spaces - 1])
                position += spaces - 1
                continue
            }
            if spaces > 0 {
                result.append(text[position..<position + spaces])
                position += spaces
                continue
            }
            result.append(text[position..<position + 1])
            position += 1
        }
        return result
    }
}

/// The classes the pre-tokenizer expressions use: letters (\p{L}), numbers
/// (\p{N}), white space (\s, Unicode White_Space) and everything else.
enum CharacterClass: Equatable {
    case letter, number, whitespace, other

    init(_ scalar: Unicode.Scalar) {
        if scalar.properties.isWhitespace {
            self = .whitespace
        } else if CharacterClass.isNumber(scalar) {
            self = .number
        } else {
            switch scalar.properties.generalCategory {
            case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter: self = .letter
            default: self = .other
            }
        }
    }

    static func isNumber(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.properties.generalCategory {
        case .decimalNumber, .letterNumber, .otherNumber: return true
        default: return false
        }
    }
}
