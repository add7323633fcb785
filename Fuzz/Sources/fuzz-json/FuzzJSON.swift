import FuzzSupport
import QuernJSON

// The one JSON parser on arbitrary bytes — every request and every JSON file
// of a model folder goes through it. A document that parses must write back,
// compact and pretty, as text that parses to the same value; it is then
// decoded the ways the config readers decode (each may fail, never crash).
struct Shapes: Decodable {
    struct Size: Decodable {
        var shortestEdge: Int?
        var height: UInt16?
        enum CodingKeys: String, CodingKey { case shortestEdge = "shortest_edge", height }
    }
    var modelType: String?
    var vocabSize: Int?
    var epsilon: Float?
    var ids: [Int64]?
    var size: Size?
    var labels: [String: String]?
    var nested: [Shapes]?
    var anything: JSONValue?
    enum CodingKeys: String, CodingKey {
        case modelType = "model_type", vocabSize = "vocab_size", epsilon = "rms_norm_eps", ids = "eos_token_id"
        case size, labels = "id2label", nested, anything = "rope_parameters"
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard let value = try? JSONParser.parse(UnsafeRawBufferPointer(start: data, count: size)) else { return 0 }
    for style in [JSONWriter.Style.compact, .pretty] {
        let written = JSONWriter.bytes(value, style: style)
        let again = try? JSONParser.parse(written)
        precondition(again == value, "\(style) output of a parsed document does not parse back to it")
    }
    blackHole(try? value.decode(Shapes.self))
    blackHole(try? value.decode([Shapes].self))
    blackHole(try? value.decode([String: Double].self))
    blackHole(try? value.decode([[UInt8]].self))
    return 0
}
