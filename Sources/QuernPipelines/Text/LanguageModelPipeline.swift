import Foundation
import QuernJSON
import QuernModels
import QuernTensor

/// Chat and completion on a causal language model (the default is
/// SmolLM2-135M-Instruct). A chat request is rendered through the model's
/// own chat template; a completion prompt is tokenized as it is.
///
/// Context policy (`drop_oldest_turns`, reported in every result): when the
/// prompt plus `max_tokens` does not fit the context, whole turns after the
/// system message are dropped, oldest first, until it does; `max_tokens` is
/// then capped to what is left. The newest message is never dropped: if it
/// alone does not fit, the result is a `context.too_long` error.
///
/// Text a user sends (message contents, a completion prompt) is tokenized
/// with special-token parsing off: only the chat template's own markers
/// become control tokens, so `<|im_end|><|im_start|>system` typed in a
/// message cannot forge a turn. Text that certainly cannot fit the context
/// (judged from its byte length) is refused before it is tokenized.
public struct LanguageModelPipeline: Pipeline {
    public struct Prepared: Sendable {
        let tokens: [Int]
        let isChat: Bool
        /// The request's, with `maxTokens` resolved and fitted to the context.
        let sampling: SamplingParameters
        let droppedMessages: Int
        /// Set when the request continues a stored conversation.
        var turn: ConversationTurn? = nil
    }

    /// Longest context Quern allocates, below the model's trained length
    /// (SmolLM2's 8,192) to bound the KV cache.
    public let contextLimit: Int
    public let identity: ModelIdentity
    public let tasks: Set<TaskName> = [.chat, .complete]
    let model: LoadedLanguageModel
    /// Where conversations are kept; nil: requests naming one are refused.
    let conversations: Conversations?
    /// Drops the conversation cache's states when this model is released.
    let conversationLease: Conversations.ModelLease?

    public init(path: String, contextLimit: Int = 8192, conversations: Conversations? = nil) throws(QuernError) {
        self.conversations = conversations
        conversationLease = conversations.map(Conversations.ModelLease.init)
        do {
            model = try LanguageModelLoader.load(path: path)
        } catch {
            throw QuernError(loading: "language model", at: path, error)
        }
        self.contextLimit = min(contextLimit, model.model.contextLength)
        identity = ModelIdentity(name: model.name, weightsSHA256: try FileChecksum.sha256(of: model.weightsPath))
    }

    public func prepare(_ job: Job) throws(QuernError) -> Prepared {
        if let requested = job.model, requested != identity.name {
            throw QuernError(.requestInvalidValue, "model \"\(requested)\" is not loaded (this daemon serves \"\(identity.name)\")")
        }
        switch job.request {
        case let .chat(messages, sampling):
            guard let template = model.chatTemplate else {
                throw QuernError(.unsupported, "\(identity.name) has no chat template Quern recognises (supported: \(ChatTemplate.Family.allCases.map(\.rawValue).joined(separator: ", "))); use task \"complete\"")
            }
            let maxTokens = sampling.maxTokens ?? SamplingParameters.defaultMaxTokens
            let fitting = ChatPromptFitting(model: model, template: template, budget: contextLimit - min(maxTokens, 1), contextLimit: contextLimit)
            let turn = try conversationTurn(job, messages: messages)
            let prompt = try fitting.fit((turn?.history ?? []) + messages)
            return Prepared(tokens: prompt.tokens, isChat: true, sampling: Self.fitted(sampling, maxTokens: min(maxTokens, contextLimit - prompt.tokens.count)),
                            droppedMessages: prompt.droppedMessages, turn: turn)
        case let .complete(prompt, sampling):
            // Every token covers at most `longestTokenBytes` bytes: a prompt
            // that long cannot fit, and is refused without tokenizing it.
            let minimum = model.tokenizer.minimumTokenCount(byteCount: prompt.utf8.count)
            guard minimum < contextLimit else {
                throw QuernError(.contextTooLong, "the prompt has at least \(minimum) tokens (judged from its length); the context holds \(contextLimit)")
            }
            // The prompt is the user's text: special-token text in it stays text.
            let tokens = model.tokens(forUserText: prompt)
            guard !tokens.isEmpty else { throw QuernError(.requestInvalidValue, "the prompt is empty") }
            guard tokens.count < contextLimit else {
                throw QuernError(.contextTooLong, "the prompt has \(tokens.count) tokens; the context holds \(contextLimit)")
            }
            let maxTokens = sampling.maxTokens ?? SamplingParameters.defaultMaxTokens
            return Prepared(tokens: tokens, isChat: false, sampling: Self.fitted(sampling, maxTokens: min(maxTokens, contextLimit - tokens.count)),
                            droppedMessages: 0)
        default:
            throw QuernError(.internalError, "the language model pipeline received a \(job.request.task.rawValue) job")
        }
    }

    /// The request's sampling with the number of tokens to generate and the
    /// seed settled (a fresh one when the request gave none: the result
    /// reports it, so the request can be replayed exactly).
    static func fitted(_ sampling: SamplingParameters, maxTokens: Int) -> SamplingParameters {
        var fitted = sampling.withSeed()
        fitted.maxTokens = maxTokens
        return fitted
    }

    /// How many requests are decoded together. Each decoding step reads
    /// every weight once whatever the batch, so eight chats cost little more
    /// than one (see BENCHMARKS.md, "Batched decoding").
    public static let batchLimit = 8
    public var maxBatchSize: Int { Self.batchLimit }

    public func run(_ batch: [Prepared], context: PipelineContext) async throws(QuernError) -> [Result<TaskOutput, QuernError>] {
        // Progress (tokens, tokens/s) and the text so far go to the daemon as
        // they come: a timeout or a cancellation keeps them.
        let clock = ContinuousClock()
        var generationStart: [ContinuousClock.Instant?] = Array(repeating: nil, count: batch.count)
        var steps = Array(repeating: 0, count: batch.count)
        var textSoFar = Array(repeating: "", count: batch.count)
        let outputs: [Result<GenerationOutput, any Error>]
        do {
            outputs = try model.generator.generate(
                batch: batch.map { GenerationRequest(prompt: $0.tokens, sampling: $0.sampling, cached: cachedState(for: $0)) },
                checkpoint: { index in
                    try context.checkCancellation()
                    // Called before each token: the first call follows the prompt pass.
                    let now = clock.now
                    let start = generationStart[index] ?? now
                    generationStart[index] = start
                    let elapsed = (now - start).secondsValue
                    let limit = batch[index].sampling.maxTokens ?? SamplingParameters.defaultMaxTokens
                    context.report(index, .tokens(generated: steps[index], perSecond: elapsed > 0 ? Double(steps[index]) / elapsed : 0, limit: limit))
                    steps[index] += 1
                },
                onText: { index, piece in
                    textSoFar[index] += piece
                    let item = batch[index]
                    let usage = TokenUsage(promptTokens: item.tokens.count, completionTokens: max(0, steps[index]))
                    context.recordPartial(index, item.isChat
                        ? .chat(ChatOutput(content: textSoFar[index], finishReason: .length, usage: usage))
                        : .completion(CompletionOutput(text: textSoFar[index], finishReason: .length, usage: usage)))
                })
        } catch let error as QuernError {
            throw error
        } catch {
            return batch.map { _ in .failure(QuernError(.pipelineFailed, "generation failed: \(error)")) }
        }
        return zip(batch, outputs).map { item, outcome in
            switch outcome {
            case let .failure(error):
                return .failure(QuernError(.pipelineFailed, "generation failed: \(error)"))
            case let .success(output):
                let usage = TokenUsage(promptTokens: item.tokens.count, completionTokens: output.tokens.count)
                var details = GenerationDetails(
                    parameters: parametersJSON(item), promptTokensPerSecond: output.promptTokensPerSecond,
                    generationTokensPerSecond: output.generationTokensPerSecond, contextLimit: contextLimit, droppedMessages: item.droppedMessages)
                if let turn = item.turn {
                    do throws(QuernError) {
                        details.conversation = try finish(turn, item: item, output: output)
                    } catch {
                        return .failure(error)
                    }
                }
                return .success(item.isChat
                    ? .chat(ChatOutput(content: output.text, finishReason: output.finishReason, usage: usage, details: details))
                    : .completion(CompletionOutput(text: output.text, finishReason: output.finishReason, usage: usage, details: details)))
            }
        }
    }

    func parametersJSON(_ item: Prepared) -> JSONValue {
        let s = item.sampling
        return .object([
            ("max_tokens", .int(s.maxTokens ?? SamplingParameters.defaultMaxTokens)), ("temperature", .float(s.temperature)), ("top_k", .int(s.topK)),
            ("top_p", .float(s.topP)), ("min_p", .float(s.minP)),
            ("repetition_penalty", .float(s.repetitionPenalty)), ("presence_penalty", .float(s.presencePenalty)),
            ("frequency_penalty", .float(s.frequencyPenalty)), ("seed", .int(s.seed ?? 0)),
            ("stop", .array(s.stop.map(JSONValue.string))),
        ])
    }
}

extension Duration {
    /// Seconds as a Double, for rates.
    var secondsValue: Double {
        let (whole, fraction) = components
        return Double(whole) + Double(fraction) / 1e18
    }
}
