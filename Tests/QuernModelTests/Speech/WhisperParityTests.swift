import Foundation
import QuernFormats
import QuernModels
import QuernTensor
import QuernTestSupport
import Testing

/// Whisper against PyTorch on ../shared/fixtures/whisper-tiny-random.
@Suite("Whisper parity with PyTorch (whisper-tiny-random)")
struct WhisperParityTests {
    static var folder: String { TestPaths.fixtures + "/whisper-tiny-random" }

    /// The full [80, 3000] input: the stored first 256 frames, then the
    /// constant pad frames (bit-exact, see the fixture README).
    static func features(_ expected: FixtureExpectations) throws -> Tensor {
        let inputs = try SafetensorsFile(path: folder + "/inputs.safetensors")
        let stored = try #require(inputs.tensors.first { $0.name == "input_features_head" })
        let head = try stored.floats(file: inputs.path).reshaped([80, 256])
        let pad = Float(truncating: try #require(expected.value("inputs", "pad_value") as? NSNumber))
        let full = Tensor(repeating: pad, shape: [80, 3000])
        for bin in 0..<80 {
            for frame in 0..<256 { full[flat: bin * 3000 + frame] = head[flat: bin * 256 + frame] }
        }
        return full
    }

    @Test func encoderStatesAndDecoderLogitsMatch() throws {
        let expected = try FixtureExpectations(Self.folder)
        let model = try WhisperModel.loadHuggingFace(directory: Self.folder)
        #expect(model.config.width == 64 && model.config.encoderLayers == 2 && model.config.targetPositions == 64)
        var intermediates: [String: Tensor] = [:]
        let states = try model.encode(try Self.features(expected)) { name, tensor in intermediates[name] = tensor.copy() }
        #expect(states.shape == [1500, 64])

        let firstFrames = expected.data("outputs", "encoder_last_hidden_state_first4_frames")
        #expect(maxDifference(Array(states.scalars.prefix(256)), firstFrames) < 1e-4)
        #expect(maxDifference(states.row(1499).scalars, expected.data("outputs", "encoder_last_hidden_state_frame_1499")) < 1e-4)
        let conv1 = try #require(intermediates["encoder.conv1 (before GELU)"])
        #expect(maxDifference(Array(conv1.scalars.prefix(256)), expected.data("outputs", "encoder_conv1_first4_frames_before_gelu")) < 1e-4)
        // Summaries of the whole tensors (order-free: sum and mean |x|).
        for (name, tensor) in intermediates {
            let summary = try #require(expected.value("outputs", "encoder_intermediates", name) as? [String: Any], "no summary for \(name)")
            let sum = (summary["sum"] as! NSNumber).doubleValue, meanAbs = (summary["mean_abs"] as! NSNumber).doubleValue
            let values = tensor.scalars.map(Double.init)
            #expect(abs(values.reduce(0, +) - sum) < 1e-4 * Double(values.count), "\(name) sum")
            #expect(abs(values.map(abs).reduce(0, +) / Double(values.count) - meanAbs) < 1e-5, "\(name) mean |x|")
        }

        let session = try model.makeDecoderSession(encoderStates: states)
        var decoderOutputs: [String: Tensor] = [:]
        let prompt = expected.ints("inputs", "decoder_input_ids")
        let logits = try session.step(prompt, allLogits: true) { name, tensor in decoderOutputs[name] = tensor.copy() }
        let logitDifference = maxDifference(logits.scalars, expected.data("outputs", "decoder_logits"))
        #expect(logitDifference < 1e-4, "decoder logits differ by \(logitDifference)")
        for name in ["decoder.layers.0 output", "decoder.layers.1 output", "decoder.layer_norm output"] {
            let tensor = try #require(decoderOutputs[name])
            #expect(maxDifference(tensor.scalars, expected.data("outputs", "decoder_intermediates", name)) < 1e-4, "\(name)")
        }

        // Greedy (plain argmax, 8 steps, no stop) with the KV cache, and the
        // same logits when the whole prefix is recomputed.
        var tokens: [Int] = []
        var last = Array(logits.scalars.suffix(model.config.vocabularySize))
        for _ in 0..<8 {
            let next = argmax(last)
            tokens.append(next)
            last = try session.step([next]).scalars
        }
        #expect(tokens == expected.ints("outputs", "greedy", "new_tokens"))
        let fresh = try model.makeDecoderSession(encoderStates: states)
        let recomputed = try fresh.step(prompt + tokens).scalars
        #expect(maxDifference(recomputed, last) < 1e-4)
    }

    @Test func decoderRefusesTooManyTokensAndUnknownIds() throws {
        let model = try WhisperModel.loadHuggingFace(directory: Self.folder)
        let states = Tensor(zeros: [10, 64])
        let session = try model.makeDecoderSession(encoderStates: states)
        #expect(throws: ModelError.self) { try session.step([300]) }
        #expect(throws: ModelError.self) { try session.step(Array(repeating: 1, count: 65)) }
        #expect(throws: ModelError.self) { try model.encode(Tensor(zeros: [80, 3002])) }
        #expect(throws: ModelError.self) { try model.encode(Tensor(zeros: [79, 3000])) }
    }
}
