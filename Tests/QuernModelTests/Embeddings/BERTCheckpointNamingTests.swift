import Foundation
import QuernFormats
import QuernModels
import QuernTestSupport
import Testing

/// BERT binds checkpoints saved under other naming conventions
/// (bert-base-uncased's `bert.` prefix and gamma/beta LayerNorms) to the
/// same weights, and refuses tensors it does not know or misses.
@Suite struct BERTCheckpointNamingTests {
    typealias W = SafetensorsWriter

    func open(_ bytes: [UInt8]) throws -> SafetensorsFile { try SafetensorsFile(path: W.temporaryFile(bytes)) }

    @Test func bertLoadsWithPrefixAndOldLayerNormNames() throws {
        let fixture = TestPaths.fixtures + "/bert-tiny"
        let original = try SafetensorsFile(path: fixture + "/model.safetensors")
        let config = try BERTModel.Config.load(path: fixture + "/config.json")
        let ids = [2, 15, 77, 130, 9, 3]
        let expected = try BERTModel(config: config, weights: WeightBinder(file: original.path, tensors: original.tensors))
            .forward(ids: ids, count: 1, width: ids.count).scalars

        // bert-base-uncased style: `bert.` prefix, gamma/beta, a cls.* head.
        var entries = original.tensors.map { tensor in
            var name = "bert." + tensor.name
            if name.contains("LayerNorm") { name = name.replacingOccurrences(of: ".weight", with: ".gamma").replacingOccurrences(of: ".bias", with: ".beta") }
            let dtype = tensor.element == .i64 ? "I64" : "F32"
            return W.Entry(name: name, dtype: dtype, shape: tensor.shape, bytes: Array(tensor.bytes))
        }
        entries.append(W.Entry(name: "cls.predictions.bias", dtype: "F32", shape: [1], bytes: W.floats([0])))
        let renamed = try open(W.file(entries))
        let model = try BERTModel(config: config, weights: WeightBinder(file: renamed.path, tensors: renamed.tensors))
        #expect(try model.forward(ids: ids, count: 1, width: ids.count).scalars == expected)

        // Strict binding: a tensor the model does not know is an error naming it.
        let extra = try open(W.file(entries.dropLast() + [W.Entry(name: "bert.encoder.layer.9.mystery", dtype: "F32", shape: [1], bytes: W.floats([0]))]))
        do throws(FormatError) {
            _ = try BERTModel(config: config, weights: WeightBinder(file: extra.path, tensors: extra.tensors))
            Issue.record("an unknown tensor must be refused")
        } catch {
            #expect(error.kind == .unusedTensor && error.message.contains("bert.encoder.layer.9.mystery"))
        }
        // A missing one too.
        let missing = try open(W.file(entries.filter { !$0.name.hasSuffix("layer.1.output.dense.weight") }))
        #expect(throws: FormatError(.missingTensor, file: missing.path, "tensor bert.encoder.layer.1.output.dense.weight is missing")) {
            _ = try BERTModel(config: config, weights: WeightBinder(file: missing.path, tensors: missing.tensors))
        }
    }
}
