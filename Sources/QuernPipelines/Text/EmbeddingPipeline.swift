import Foundation
import QuernModels
import QuernTensor
import QuernTokenizers

/// Sentence embeddings (task `embed`; plain text too with `--text-task
/// embed`), on a sentence-transformers folder — all-MiniLM-L6-v2 by default.
///
/// `prepare` tokenizes (decode time); `run` embeds every text of every job
/// in the batch together, so a burst of small files shares model batches:
/// the texts' windows are sorted by length and run 32 at a time. A job that
/// asks to truncate gets one window per text, its first `max_seq_length`
/// tokens, as sentence-transformers embeds it.
public struct EmbeddingPipeline: Pipeline {
    public struct Prepared: Sendable {
        let texts: [WindowedText]
        var encoding = EmbeddingEncoding.float
    }

    public let identity: ModelIdentity
    public let tasks: Set<TaskName> = [.embed]
    public static let batchLimit = 32
    public var maxBatchSize: Int { Self.batchLimit }
    /// Model inputs (windows) per forward pass.
    public let windowsPerBatch = 32
    let embedder: SentenceEmbedder

    public init(directory: String, precision: Precision = .float32) throws(QuernError) {
        do {
            embedder = try SentenceEmbedder(directory: directory, precision: precision)
        } catch {
            throw QuernError(loading: "embedding model", at: directory, error)
        }
        identity = ModelIdentity(name: embedder.name, weightsSHA256: try FileChecksum.sha256(of: embedder.weightsPath), precision: precision)
    }

    public func prepare(_ job: Job) throws(QuernError) -> Prepared {
        if let requested = job.model, !identity.answers(to: requested) {
            throw QuernError(.requestInvalidValue, "model \"\(requested)\" is not loaded (this daemon embeds with \"\(identity.name)\")")
        }
        guard case let .embed(inputs, truncate) = job.request else {
            throw QuernError(.internalError, "the embedding pipeline received a \(job.request.task.rawValue) job")
        }
        var texts: [WindowedText] = []
        for input in inputs {
            do { texts.append(try embedder.tokenize(input, longText: truncate ? .truncate : .windows)) } catch {
                throw QuernError(.pipelineFailed, "cannot tokenize the text: \(error)")
            }
        }
        return Prepared(texts: texts, encoding: job.embeddingEncoding)
    }

    public func run(_ batch: [Prepared], context: PipelineContext) async throws(QuernError) -> [Result<TaskOutput, QuernError>] {
        let embeddings: [TextEmbedding]
        do {
            embeddings = try embedder.embed(batch.flatMap(\.texts), batchSize: windowsPerBatch) { try context.checkCancellation() }
        } catch let error as QuernError {
            throw error
        } catch {
            throw QuernError(.pipelineFailed, "embedding failed: \(error)")
        }
        var results: [Result<TaskOutput, QuernError>] = []
        var next = 0
        for item in batch {
            let mine = embeddings[next..<next + item.texts.count]
            next += item.texts.count
            var output = output(texts: item.texts, embeddings: Array(mine))
            output.encoding = item.encoding
            results.append(.success(.embedding(output)))
        }
        return results
    }

    private func output(texts: [WindowedText], embeddings: [TextEmbedding]) -> EmbeddingOutput {
        let specials = embedder.tokenizer.specialTokensPerSequence
        var inputs: [EmbeddingOutput.Input] = []
        var processed = 0
        for (text, embedding) in zip(texts, embeddings) {
            processed += text.windows.reduce(0) { $0 + $1.ids.count }
            let windows = text.exceedsMaximumLength
                ? zip(text.windows, embedding.windows).map { EmbeddingOutput.Input.Window(pieces: $0.pieces, tokens: $0.ids.count, vector: $1.vector) }
                : []
            let truncation = text.isTruncated
                ? EmbeddingOutput.Input.Truncation(piecesUsed: text.embeddedPieceCount, piecesTotal: text.pieceCount)
                : nil
            inputs.append(EmbeddingOutput.Input(tokens: text.pieceCount + specials, windows: windows, truncation: truncation))
        }
        return EmbeddingOutput(vectors: embeddings.map(\.vector), promptTokens: processed, inputs: inputs, maxTokens: embedder.maxSequenceLength)
    }
}
