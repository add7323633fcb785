import QuernJSON
import QuernPipelines
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
