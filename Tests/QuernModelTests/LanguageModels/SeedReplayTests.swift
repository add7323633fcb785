import Foundation
import QuernModels
import QuernTensor
import QuernTestSupport
import Testing
@testable import QuernPipelines

/// A request without a seed gets a fresh one, which its result reports; the
/// same request with that seed gives the same text (the real SmolLM2).
@Suite(.serialized, .enabled(if: FileManager.default.fileExists(atPath: TestPaths.smolLM2)))
struct SeedReplayTests {
    static func chat(seed: UInt64?) -> Job {
        var sampling = SamplingParameters()
        sampling.maxTokens = 32
        sampling.seed = seed
        sampling.temperature = 1.2
        return Job(request: .chat(messages: [ChatMessage(role: .user, content: "Tell me something about the sea.")], sampling: sampling))
    }

    static func reply(_ outcome: Result<TaskOutput, QuernError>) throws -> (text: String, seed: UInt64?) {
        guard case let .chat(output) = try outcome.get(), case let .object(parameters)? = output.details?.parameters,
              case let .number(seed)? = parameters.first(where: { $0.key == "seed" })?.value else {
            Issue.record("no chat reply with parameters.seed")
            return ("", nil)
        }
        return (output.content, UInt64(seed))
    }

    @Test func aReportedSeedReplaysTheRequestAndRequestsWithoutOneDiffer() async throws {
        _ = try BLAS.load()
        let pipeline = try LanguageModelPipeline(path: TestPaths.smolLM2)
        let context = PipelineContext(deadline: .now + .seconds(120))
        let first = try pipeline.prepare(Self.chat(seed: nil)), second = try pipeline.prepare(Self.chat(seed: nil))
        #expect(first.sampling.seed != nil && second.sampling.seed != nil && first.sampling.seed != second.sampling.seed)
        let original = try Self.reply(try await pipeline.run([first], context: context)[0])
        #expect(original.seed == first.sampling.seed)
        let replay = try Self.reply(try await pipeline.run([try pipeline.prepare(Self.chat(seed: original.seed))], context: context)[0])
        #expect(replay.text == original.text && replay.seed == original.seed && !original.text.isEmpty)
    }
}
