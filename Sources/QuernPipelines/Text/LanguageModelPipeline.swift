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
        /// `n`: replies to generate, each a sequence of the decoding batch.
        var choices = 1
        /// `stream` reached the pipeline: a file's request, whose result is
        /// written whole (the HTTP API streams and clears the flag).
        var streamIgnored = false
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
        var prepared = try prepareRequest(job)
        prepared.choices = job.choices
        prepared.streamIgnored = job.stream
        return prepared
    }

    private func prepareRequest(_ job: Job) throws(QuernError) -> Prepared {
        if let requested = job.model, !identity.answers(to: requested) {
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
        // Each job's choices are sequences of one decoding batch; choice c
        // samples with seed + c, so each is reproducible on its own.
        var sequences: [(job: Int, choice: Int)] = []
        var requests: [GenerationRequest] = []
        for (index, item) in batch.enumerated() {
            for choice in 0..<max(1, item.choices) {
                var sampling = item.sampling
                sampling.seed = (sampling.seed ?? 0) &+ UInt64(choice)
                sequences.append((index, choice))
                // A conversation's cached prefix serves its one reply (n is 1 there).
                requests.append(GenerationRequest(prompt: item.tokens, sampling: sampling, cached: choice == 0 ? cachedState(for: item) : nil))
            }
        }
        // Progress (tokens, tokens/s) and the text so far go to the daemon as
        // they come: a timeout or a cancellation keeps them. Progress is the
        // first choice's.
        let clock = ContinuousClock()
        var generationStart: [ContinuousClock.Instant?] = Array(repeating: nil, count: requests.count)
        var steps = Array(repeating: 0, count: requests.count)
        var textSoFar = Array(repeating: "", count: requests.count)
        let firstSequence = batch.indices.map { index in sequences.firstIndex { $0.job == index } ?? 0 }
        let outputs: [Result<GenerationOutput, any Error>]
        do {
            outputs = try model.generator.generate(
                batch: requests,
                checkpoint: { sequence in
                    try context.checkCancellation()
                    // Called before each token: the first call follows the prompt pass.
                    let now = clock.now
                    let start = generationStart[sequence] ?? now
                    generationStart[sequence] = start
                    let elapsed = (now - start).secondsValue
                    let job = sequences[sequence].job
                    if sequences[sequence].choice == 0 {
                        let limit = batch[job].sampling.maxTokens ?? SamplingParameters.defaultMaxTokens
                        context.report(job, .tokens(generated: steps[sequence], perSecond: elapsed > 0 ? Double(steps[sequence]) / elapsed : 0, limit: limit))
                    }
                    steps[sequence] += 1
                },
                onText: { sequence, piece in
                    textSoFar[sequence] += piece
                    let job = sequences[sequence].job
                    let item = batch[job]
                    let mine = sequences.indices.filter { sequences[$0].job == job }
                    let choices = mine.map { GeneratedChoice(text: textSoFar[$0], finishReason: .length) }
                    let usage = TokenUsage(promptTokens: item.tokens.count, completionTokens: mine.reduce(0) { $0 + max(0, steps[$1]) })
                    context.recordPartial(job, Self.output(item, choices: choices, usage: usage, details: nil))
                })
        } catch let error as QuernError {
            throw error
        } catch {
            return batch.map { _ in .failure(QuernError(.pipelineFailed, "generation failed: \(error)")) }
        }
        return batch.indices.map { index in
            let item = batch[index]
            var choices: [GeneratedChoice] = []
            var completionTokens = 0
            for (sequence, owner) in sequences.enumerated() where owner.job == index {
                switch outputs[sequence] {
                case let .failure(error):
                    return .failure(QuernError(.pipelineFailed, "generation failed: \(error)"))
                case let .success(output):
                    choices.append(GeneratedChoice(text: output.text, finishReason: output.finishReason))
                    completionTokens += output.tokens.count
                }
            }
            guard case let .success(first) = outputs[firstSequence[index]] else {
                return .failure(QuernError(.internalError, "no reply was generated"))
            }
            let usage = TokenUsage(promptTokens: item.tokens.count, completionTokens: completionTokens)
            var details = GenerationDetails(
                parameters: parametersJSON(item), promptTokensPerSecond: first.promptTokensPerSecond,
                generationTokensPerSecond: first.generationTokensPerSecond, contextLimit: contextLimit, droppedMessages: item.droppedMessages)
            if item.streamIgnored {
                details.notes.append("\"stream\" is ignored in a file: the result is written whole when the reply is complete (stream over the HTTP API: quern serve --http-listen)")
            }
            if let turn = item.turn {
                do throws(QuernError) {
                    details.conversation = try finish(turn, item: item, output: first)
                } catch {
                    return .failure(error)
                }
            }
            return .success(Self.output(item, choices: choices, usage: usage, details: details))
        }
    }

    /// A chat or completion output from its choices (at least one).
    static func output(_ item: Prepared, choices: [GeneratedChoice], usage: TokenUsage, details: GenerationDetails?) -> TaskOutput {
        let first = choices.first ?? GeneratedChoice(text: "", finishReason: .length)
        let more = Array(choices.dropFirst())
        return item.isChat
            ? .chat(ChatOutput(content: first.text, finishReason: first.finishReason, usage: usage, details: details, moreChoices: more))
            : .completion(CompletionOutput(text: first.text, finishReason: first.finishReason, usage: usage, details: details, moreChoices: more))
    }

    func parametersJSON(_ item: Prepared) -> JSONValue {
        let s = item.sampling
        return .object([
            ("max_tokens", .int(s.maxTokens ?? SamplingParameters.defaultMaxTokens)), ("temperature", .float(s.temperature)), ("top_k", .int(s.topK)),
            ("top_p", .float(s.topP)), ("min_p", .float(s.minP)),
            ("repetition_penalty", .float(s.repetitionPenalty)), ("presence_penalty", .float(s.presencePenalty)),
            ("frequency_penalty", .float(s.frequencyPenalty)), ("seed", .int(s.seed ?? 0)),
            ("stop", .array(s.stop.map(JSONValue.string))), ("n", .int(item.choices)),
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
