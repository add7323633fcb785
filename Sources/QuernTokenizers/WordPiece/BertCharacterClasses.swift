/// The character classes BERT's normaliser and pre-tokeniser use, as the
/// reference (Hugging Face `tokenizers`) computes them.
///
/// A trap: the reference takes general categories (control/format/private
/// use, nonspacing marks, punctuation) from an old Unicode table, so
/// characters assigned after Unicode `referenceAge` are neither removed,
/// stripped nor split there — e.g. U+1AC1 (a combining mark from Unicode 14)
/// stays inside its word, and U+2E52 (punctuation from Unicode 13) does not
/// split one. Whitespace and lower-casing use the current table. Unassigned
/// code points are kept (and end up `[UNK]`).
enum BertCharacterClasses {
    /// The Unicode version of the reference's category tables, found by
    /// comparing every code point with `tokenizers` 0.23 (UnicodeSweepTests).
    static let referenceAge = (major: 8, minor: 0)

    /// Characters whose category changed after Unicode 8.0: the reference
    /// still classes them the old way (the sweep found exactly these).
    static let legacyPunctuation: Set<UInt32> = [0x166D, 0x111C9]
    static let legacyNonspacingMarks: Set<UInt32> = [0x1734, 0x1171E]
    static let legacyNotNonspacingMarks: Set<UInt32> = [0x1885, 0x1886, 0xA9BD, 0x111C9]

    @inline(__always)
    static func isFromReferenceTable(_ scalar: Unicode.Scalar) -> Bool {
        guard let age = scalar.properties.age else { return false }
        return age.major < referenceAge.major || (age.major == referenceAge.major && age.minor <= referenceAge.minor)
    }

    /// Whitespace: tab, newline, carriage return and Unicode White_Space.
    @inline(__always)
    static func isWhitespace(_ scalar: Unicode.Scalar) -> Bool {
        let value = scalar.value
        if value < 0x80 { return value == 0x20 || (value >= 0x09 && value <= 0x0D) }
        return scalar.properties.isWhitespace
    }

    /// Removed by `clean_text`: NUL, U+FFFD and "other" characters (control,
    /// format, private use) except tab, newline and carriage return, which
    /// count as whitespace.
    @inline(__always)
    static func isRemovedControl(_ scalar: Unicode.Scalar) -> Bool {
        let value = scalar.value
        if value == 0 || value == 0xFFFD { return true }
        if value == 0x09 || value == 0x0A || value == 0x0D { return false }
        if value < 0x20 || value == 0x7F { return true }
        if value < 0x80 { return false }
        switch scalar.properties.generalCategory {
        case .control, .format, .privateUse, .surrogate: return isFromReferenceTable(scalar)
        default: return false
        }
    }

    /// CJK ideographs, which BERT splits into one word each. Kana, Hangul and
    /// CJK punctuation are not in these blocks.
    @inline(__always)
    static func isChineseCharacter(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x4E00...0x9FFF, 0x3400...0x4DBF, 0x20000...0x2A6DF, 0x2A700...0x2B73F,
             0x2B740...0x2B81F, 0x2B920...0x2CEAF, 0xF900...0xFAFF, 0x2F800...0x2FA1F:
            return true
        default:
            return false
        }
    }

    /// Accents removed after NFD decomposition: nonspacing marks (Mn).
    @inline(__always)
    static func isStrippedMark(_ scalar: Unicode.Scalar) -> Bool {
        if scalar.value < 0x300 { return false }
        if scalar.properties.generalCategory == .nonspacingMark {
            return isFromReferenceTable(scalar) && !legacyNotNonspacingMarks.contains(scalar.value)
        }
        return legacyNonspacingMarks.contains(scalar.value)
    }

    /// Punctuation, each character its own word: all ASCII punctuation and
    /// symbols (`$`, `+`, `^`, `|`, …) plus Unicode P* categories.
    @inline(__always)
    static func isPunctuation(_ scalar: Unicode.Scalar) -> Bool {
        let value = scalar.value
        if value < 0x80 {
            return (value >= 33 && value <= 47) || (value >= 58 && value <= 64) || (value >= 91 && value <= 96) || (value >= 123 && value <= 126)
        }
        switch scalar.properties.generalCategory {
        case .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation,
             .initialPunctuation, .finalPunctuation, .otherPunctuation:
            return isFromReferenceTable(scalar)
        default:
            return legacyPunctuation.contains(scalar.value)
        }
    }
}
