import Foundation
import QuernFormats
import QuernJSON
import QuernModels
import QuernTensor
import Testing

/// A fixture's expected.json.
struct FixtureExpectations {
    let root: [String: Any]

    init(_ folder: String) throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: folder + "/expected.json"))
        root = try JSONSerialization.jsonObject(with: data) as! [String: Any]
    }

    func value(_ path: String...) -> Any? {
        var node: Any? = root
        for key in path { node = (node as? [String: Any])?[key] }
        return node
    }

    /// A tensor output's flat data (shortest round-tripping decimals → exact floats).
    func data(_ path: String...) -> [Float] {
        var node: Any? = root
        for key in path { node = (node as? [String: Any])?[key] }
        let values = ((node as? [String: Any])?["data"] as? [Any]) ?? (node as? [Any]) ?? []
        return values.map { Float(truncating: $0 as! NSNumber) }
    }

    func ints(_ path: String...) -> [Int] {
        var node: Any? = root
        for key in path { node = (node as? [String: Any])?[key] }
        return (node as? [Any] ?? []).map { ($0 as! NSNumber).intValue }
    }
}

func loadConfig(_ folder: String) throws -> [String: Any] {
    let data = try Data(contentsOf: URL(fileURLWithPath: folder + "/config.json"))
    return try JSONSerialization.jsonObject(with: data) as! [String: Any]
}

/// The tests edit config.json as a dictionary; the models take its typed
/// struct. The dictionary is written out by Foundation and read back by
/// Quern's own reader, as a config.json on disk would be.
func typedConfig<T: Decodable>(_ dictionary: [String: Any], as type: T.Type = T.self) throws -> T {
    let bytes = try JSONSerialization.data(withJSONObject: dictionary)
    return try JSONParser.parse([UInt8](bytes)).decode(type)
}

extension LlamaModel {
    convenience init(huggingFaceConfig dictionary: [String: Any], weights: WeightBinder) throws {
        try self.init(huggingFaceConfig: typedConfig(dictionary, as: LlamaConfigFile.self), weights: weights)
    }
}

extension GPT2Model {
    convenience init(huggingFaceConfig dictionary: [String: Any], weights: WeightBinder) throws {
        try self.init(huggingFaceConfig: typedConfig(dictionary, as: GPT2ConfigFile.self), weights: weights)
    }
}

func binder(_ folder: String) throws -> WeightBinder {
    let checkpoint = try SafetensorsCheckpoint(directory: folder)
    return WeightBinder(file: checkpoint.path, tensors: checkpoint.tensors)
}

/// max |a − b|.
func maxDifference(_ a: [Float], _ b: [Float]) -> Float {
    precondition(a.count == b.count, "\(a.count) vs \(b.count) values")
    return zip(a, b).map { abs($0 - $1) }.max() ?? 0
}

func argmax(_ values: [Float]) -> Int {
    var best = 0
    for i in values.indices where values[i] > values[best] { best = i }
    return best
}

/// Greedy decoding with the KV cache, one token at a time after the prompt;
/// returns the new tokens and the logits used for each step.
func greedyWithCache(_ model: any CausalLanguageModel, prompt: [Int], steps: Int) throws -> (tokens: [Int], logits: [[Float]]) {
    let state = model.makeState(capacity: prompt.count + steps)
    var logits = try model.forward(prompt, state: state, allLogits: false).scalars
    var tokens: [Int] = [], stepLogits: [[Float]] = []
    for step in 0..<steps {
        stepLogits.append(logits)
        let next = argmax(logits)
        tokens.append(next)
        if step + 1 < steps { logits = try model.forward([next], state: state, allLogits: false).scalars }
    }
    return (tokens, stepLogits)
}
