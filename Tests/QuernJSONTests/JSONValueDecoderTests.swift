import QuernJSON
import Testing

/// JSONValueDecoder: Decodable structs from parsed JSON, with errors that
/// name the key path and say what was wrong.
@Suite struct JSONValueDecoderTests {
    struct Config: Decodable, Equatable {
        struct Layer: Decodable, Equatable {
            var size: Int
            var name: String?
        }
        struct Attention: Decodable, Equatable {
            var heads: Int
            var epsilon: Double?
        }
        var nEmbd: Int
        var layers: [Layer]
        var attention: Attention
        var flags: [String: Bool]?

        enum CodingKeys: String, CodingKey {
            case nEmbd = "n_embd", layers, attention, flags
        }
    }

    private func decode<T: Decodable>(_ type: T.Type, _ text: String) throws -> T {
        try JSONParser.parse(Array(text.utf8)).decode(type)
    }

    private func failure<T: Decodable>(_ type: T.Type, _ text: String) throws -> JSONDecodingError {
        let document = try JSONParser.parse(Array(text.utf8))
        do throws(JSONDecodingError) {
            _ = try document.decode(type)
        } catch {
            return error
        }
        Issue.record("\(text) decoded as \(type)")
        return JSONDecodingError(.invalidValue, path: "", "no error")
    }

    @Test func decodesNestedStructsListsAndOptionals() throws {
        let config = try decode(Config.self, """
            {"n_embd": 64, "unknown": [1, 2], "layers": [{"size": 3}, {"size": 4, "name": "x"}],
             "attention": {"heads": 2, "epsilon": null}, "flags": {"a": true, "b": false}}
            """)
        #expect(config == Config(nEmbd: 64, layers: [.init(size: 3, name: nil), .init(size: 4, name: "x")],
                                 attention: .init(heads: 2, epsilon: nil), flags: ["a": true, "b": false]))
    }

    @Test func missingKeyNamesItsPath() throws {
        let top = try failure(Config.self, #"{"layers": [], "attention": {"heads": 1}}"#)
        #expect(top.code == .missingKey && top.path == "n_embd" && top.description == "n_embd: missing", "\(top)")
        let nested = try failure(Config.self, #"{"n_embd": 1, "layers": [], "attention": {"epsilon": 1e-5}}"#)
        #expect(nested.code == .missingKey && nested.path == "attention.heads", "\(nested)")
        let inList = try failure(Config.self, #"{"n_embd": 1, "layers": [{"size": 1}, {"name": "x"}], "attention": {"heads": 1}}"#)
        #expect(inList.code == .missingKey && inList.path == "layers[1].size", "\(inList)")
    }

    @Test func wrongTypeSaysWhatWasExpectedAndFound() throws {
        let string = try failure(Config.self, #"{"n_embd": "64", "layers": [], "attention": {"heads": 1}}"#)
        #expect(string.code == .wrongType)
        #expect(string.description == "n_embd: expected an integer, got a string")
        let fraction = try failure(Config.self, #"{"n_embd": 1, "layers": [{"size": 1.5}], "attention": {"heads": 1}}"#)
        #expect(fraction.description == "layers[0].size: expected an integer, got 1.5")
        let null = try failure(Config.self, #"{"n_embd": null, "layers": [], "attention": {"heads": 1}}"#)
        #expect(null.description == "n_embd: expected an integer, got null")
        let object = try failure(Config.self, #"{"n_embd": 1, "layers": {}, "attention": {"heads": 1}}"#)
        #expect(object.description == "layers: expected an array, got an object")
        let flag = try failure(Config.self, #"{"n_embd": 1, "layers": [], "attention": {"heads": 1}, "flags": {"a": 1}}"#)
        #expect(flag.description == "flags.a: expected a boolean, got 1")
        let document = try failure(Config.self, "[]")
        #expect(document.path == "" && document.description == "expected an object, got an array")
    }

    @Test func numbersConvertAsFoundationsDecoderDoes() throws {
        // Whole numbers written with a fraction or exponent are integers.
        #expect(try decode([Int].self, "[3, 3.0, 1e3, -0, 12345678901234567]") == [3, 3, 1000, 0, 12345678901234567])
        #expect(try decode([UInt64].self, "[18446744073709551615]") == [UInt64.max])
        let tooLarge = try failure([UInt8].self, "[1, 300]")
        #expect(tooLarge.code == .invalidValue && tooLarge.description == "[1]: expected an integer from 0 to 255, got 300", "\(tooLarge)")
        #expect(try failure([Int].self, "[1e300]").code == .invalidValue)
        // A float is read from its text once: this decimal lies just above a
        // float midpoint, which rounding through Double would lose.
        #expect(try decode([Float].self, "[1.00000005960464477539062501]") == [Float("1.00000005960464477539062501")!])
        #expect(try failure([Double].self, "[1e400]").description == "[0]: the number 1e400 is out of range")
    }

    @Test func enumerationsAndCustomChecksKeepThePath() throws {
        enum Mode: String, Decodable { case exact, shorter }
        struct Holder: Decodable { var resize: [String: Mode] }
        let unknown = try failure(Holder.self, #"{"resize": {"mode": "bogus"}}"#)
        #expect(unknown.code == .invalidValue && unknown.path == "resize.mode", "\(unknown)")

        struct Checked: Decodable {
            var width: Int
            enum CodingKeys: String, CodingKey { case width }
            init(from decoder: any Decoder) throws {
                let container = try decoder.container(keyedBy: CodingKeys.self)
                width = try container.decode(Int.self, forKey: .width)
                guard width > 0 else { throw container.invalidValue(.width, "must be positive, got \(width)") }
            }
        }
        let checked = try failure([Checked].self, #"[{"width": 2}, {"width": 0}]"#)
        #expect(checked.description == "[1].width: must be positive, got 0")
    }

    @Test func largeObjectsDecodeAsDictionaries() throws {
        let entries = (0..<5000).map { "\"t\($0)\": \($0)" }.joined(separator: ", ")
        let vocabulary = try decode([String: Int].self, "{" + entries + "}")
        #expect(vocabulary.count == 5000 && vocabulary["t4321"] == 4321)
    }

    @Test func valuesCanBeKeptUndecoded() throws {
        struct Loose: Decodable { var template: JSONValue?; var other: Int }
        let loose = try decode(Loose.self, #"{"template": [{"name": "a"}], "other": 1}"#)
        #expect(loose.template == .array([.object([("name", .string("a"))])]))
    }
}
