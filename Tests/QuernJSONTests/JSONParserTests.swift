import Foundation
import QuernJSON
import Testing

@Suite struct JSONParserTests {
    private func parse(_ text: String) throws(JSONSyntaxError) -> JSONValue { try JSONParser.parse(Array(text.utf8)) }

    @Test func keepsKeyOrderAndNumberText() throws {
        let value = try parse(#"{"b": 1, "a": [true, null, -0.5e3, "x\u00e9\ud83d\ude00"], "seed": 18446744073709551615}"#)
        guard case let .object(members) = value else { Issue.record("not an object"); return }
        #expect(members.map(\.key) == ["b", "a", "seed"])
        #expect(value["a"] == .array([.bool(true), .null, .number("-0.5e3"), .string("xé😀")]))
        #expect(value["seed"] == .number("18446744073709551615"))
    }

    @Test(arguments: [
        (#"{"a": 1,}"#, "expected a string key"),
        (#"{"a": 1, "a": 2}"#, "duplicate key"),
        (#"[1, 2"#, "expected ',' or ']'"),
        (#"{"a": 01}"#, "expected ',' or '}'"),
        (#""\ud800""#, "unpaired surrogate"),
        (#""a\qb""#, "invalid escape"),
        ("\"tab\there\"", "control character"),
        ("{} x", "unexpected data after"),
        ("", "unexpected end"),
        ("nul", "invalid literal"),
    ])
    func rejectsInvalidDocuments(text: String, reason: String) {
        #expect(throws: JSONSyntaxError.self) { try parse(text) }
        do throws(JSONSyntaxError) { _ = try parse(text) } catch { #expect(error.reason.contains(reason), "\(error)") }
    }

    @Test func capsNestingDepth() {
        let deep = String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000)
        do throws(JSONSyntaxError) {
            _ = try parse(deep)
            Issue.record("a 10,000-deep document was accepted")
        } catch {
            #expect(error.reason.contains("nesting deeper"))
        }
        #expect((try? parse(String(repeating: "[", count: 64) + String(repeating: "]", count: 64))) != nil)
    }

    @Test func reportsLineAndColumn() {
        do throws(JSONSyntaxError) {
            _ = try parse("{\n  \"a\": tru\n}")
        } catch {
            #expect(error.line == 2)
            #expect(error.column == 8)
        }
    }

    @Test func writerRoundTripsAndEscapes() throws {
        let value = JSONValue.object([("name", .string("a\"b\\c\nd\u{1}/é")), ("list", .array([.int(1), .double(0.25), .double(.nan)]))])
        let compact = JSONWriter.string(value, style: .compact)
        #expect(compact == #"{"name":"a\"b\\c\nd\u0001/é","list":[1,0.25,null]}"#)
        #expect(try JSONParser.parse(JSONWriter.bytes(value, style: .pretty)) == (try JSONParser.parse(Array(compact.utf8))))
    }
}

/// The merged parser's guarantees, one by one, through their stable codes.
@Suite struct JSONParserGuaranteeTests {
    private func failure(_ text: String) -> JSONSyntaxError? { failure(Array(text.utf8)) }

    private func failure(_ bytes: [UInt8]) -> JSONSyntaxError? {
        do throws(JSONSyntaxError) {
            _ = try JSONParser.parse(bytes)
            return nil
        } catch {
            return error
        }
    }

    @Test func duplicateKeysAreRefusedWhereTheSecondOneStands() throws {
        let error = try #require(failure("{\"a\": 1,\n  \"b\": {\"a\": 2},\n  \"a\": 3}"))
        #expect(error.code == .duplicateKey)
        #expect(error.line == 3 && error.column == 3, "\(error)")
        #expect(error.reason == "duplicate key \"a\"")
        // The same key in different objects is fine.
        #expect(failure(#"{"a": {"a": {"a": 1}}, "b": [{"a": 1}, {"a": 2}]}"#) == nil)
    }

    @Test func depthLimitCountsArraysAndObjectsAlike() throws {
        let limit = JSONParser.maximumDepth
        #expect(failure(String(repeating: "[", count: limit) + String(repeating: "]", count: limit)) == nil)
        #expect(failure(String(repeating: #"{"k":"#, count: limit) + "1" + String(repeating: "}", count: limit)) == nil)
        let mixed = String(repeating: #"[{"k":"#, count: (limit + 2) / 2) + "1" + String(repeating: "}]", count: (limit + 2) / 2)
        let error = try #require(failure(mixed))
        #expect(error.code == .tooDeep)
        // Each `[{"k":` is six bytes and two levels: the error is at the
        // bracket that would open level limit + 1.
        #expect(error.offset == 6 * (limit / 2), "\(error)")
    }

    @Test func numberTextIsKeptExactly() throws {
        let texts = ["18446744073709551615", "-0", "0.1000000000000000055511151231257827", "1E+2", "-12.5e-3", "1e400", "123456789012345678901234567890"]
        let document = try JSONParser.parse(Array(("[" + texts.joined(separator: ",") + "]").utf8))
        #expect(document == .array(texts.map { .number($0) }))
        // Readers convert once, from the text; what does not fit is nil, not infinity.
        #expect(JSONValue.number("1e400").doubleValue == nil)
        #expect(JSONValue.number("123456789012345678901234567890").intValue == nil)
        #expect(JSONValue.number("3.0").intValue == nil)
        #expect(JSONValue.number("-0").intValue == 0)
        // Written back unchanged.
        #expect(JSONWriter.string(document, style: .compact) == "[" + texts.joined(separator: ",") + "]")
    }

    @Test(arguments: [
        ("{\"a\": 1,\n\"b\": tru}", JSONSyntaxError.Code.invalidLiteral, 2, 6),
        ("[1,\n 2,\n 3", .unexpectedEnd, 3, 3),
        ("[1, 2]\n\n  x", .trailingData, 3, 3),
        ("{\"a\": 1 \"b\": 2}", .unexpectedCharacter, 1, 9),
        ("[01]", .unexpectedCharacter, 1, 3),
        ("[1.]", .invalidNumber, 1, 4),
        ("[-]", .invalidNumber, 1, 3),
        ("[\"\\x\"]", .invalidEscape, 1, 4),
        ("[\"\\udc00\"]", .invalidEscape, 1, 9),
        ("[\"a\nb\"]", .invalidString, 1, 4),
        ("", .unexpectedEnd, 1, 1),
    ])
    func errorsCarryCodeLineAndColumn(text: String, code: JSONSyntaxError.Code, line: Int, column: Int) throws {
        let error = try #require(failure(text))
        #expect(error.code == code, "\(error)")
        #expect(error.line == line && error.column == column, "\(error)")
        #expect(error.description.hasSuffix("at line \(line), column \(column)"))
    }

    @Test func columnsCountBytes() throws {
        // "é" is two bytes: the column is the byte position in its line, as a byte-column display shows it.
        let error = try #require(failure("{\"é\": x}"))
        #expect(error.line == 1 && error.column == 8 && error.offset == 7, "\(error)")
    }

    @Test func stringsMustBeUTF8() throws {
        for bytes: [UInt8] in [[0x22, 0xFF, 0x22], [0x22, 0xC3, 0x22], [0x22, 0x5C, 0x6E, 0xED, 0xA0, 0x80, 0x22]] {
            #expect(failure(bytes)?.code == .invalidString, "\(bytes)")
        }
        #expect(try JSONParser.parse(Array("\"caf\u{E9} \\u00e9 \\ud83d\\ude00\"".utf8)) == .string("café é 😀"))
    }

    @Test func everyCodeIsNamespaced() {
        for code in JSONSyntaxError.Code.allCases { #expect(code.rawValue.hasPrefix("json."), "\(code)") }
        #expect(Set(JSONSyntaxError.Code.allCases.map(\.rawValue)).count == JSONSyntaxError.Code.allCases.count)
    }

    /// `quern embed` lines were written by JSONSerialization; `.shortest`
    /// must spell every double as it did.
    @Test func shortestNumbersMatchFoundation() throws {
        var generator = SystemRandomNumberGenerator()
        var values: [Double] = [0, -0.0, 1, -1, 0.1, 1e15, 1e16, 123456789, 1e-7, .leastNonzeroMagnitude, .greatestFiniteMagnitude, 2.5, 1e300]
        for _ in 0..<2000 {
            values.append(Double(Float(bitPattern: generator.next())))
            values.append(Double(bitPattern: generator.next()))
        }
        for value in values where value.isFinite {
            let foundation = String(decoding: try JSONSerialization.data(withJSONObject: [value]), as: UTF8.self)
            #expect(JSONWriter.string(.array([.shortest(value)]), style: .compact) == foundation, "\(value)")
        }
    }
}
