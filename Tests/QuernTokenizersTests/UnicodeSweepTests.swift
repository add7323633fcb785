import Foundation
import QuernFormats
import QuernJSON
import QuernTestSupport
import Testing
@testable import QuernTokenizers

/// Every code point through the normaliser and pre-tokeniser, against a dump
/// of the reference's behaviour (Hugging Face `tokenizers` 0.23.3, made by
/// tools/goldens/dump_bert_unicode.py and committed gzipped).
@Suite struct UnicodeSweepTests {
    static let dumpPath = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Goldens/bert-unicode.json.gz").path

    @Test func everyCodePointMatchesTheReference() throws {
        let compressed = try Data(contentsOf: URL(fileURLWithPath: Self.dumpPath))
        let dump = try #require(try JSONParser.parse(try Gzip.decompress([UInt8](compressed))).objectValue)
        var expected: [UInt32: (String, [String])] = [:]
        for (key, value) in dump {
            let pair = try #require(value.arrayValue)
            expected[try #require(UInt32(key))] = (try #require(pair[0].stringValue), try #require(pair[1].arrayValue).compactMap(\.stringValue))
        }
        let normalizer = BertNormalizer()
        var mismatches: [String] = []
        for value in UInt32(0)...0x10FFFF {
            guard let scalar = Unicode.Scalar(value) else { continue }
            let text = "a" + String(Character(scalar)) + "b"
            let normalized = normalizer.normalize(Substring(text))
            let words = BertPreTokenizer.split(normalized).map { String(String.UnicodeScalarView(normalized[$0])) }
            let got = (String(String.UnicodeScalarView(normalized)), words)
            let want = expected[value] ?? (text, [text])
            if got.0 != want.0 || got.1 != want.1 {
                mismatches.append(String(format: "U+%04X %@ age %@: got %@ want %@", value, "\(scalar.properties.generalCategory)", "\(scalar.properties.age.map { "\($0.major).\($0.minor)" } ?? "-")", "\(got)", "\(want)"))
            }
        }
        #expect(mismatches.isEmpty, "\(mismatches.count) code points differ:\n\(mismatches.prefix(60).joined(separator: "\n"))")
    }
}
