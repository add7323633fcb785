import QuernModels

extension TranscriptionPipeline {
    /// The audio embedding of each prepared input (`prepare` as for a
    /// transcription: the same decoding, resampling and log-mel) from the
    /// encoder alone — no token is decoded. The 30 s window's encoder pass
    /// is most of the cost, so for a one-word clip this is ~1.6× faster
    /// than `run` (0.34 s against 0.55 s on the 2-core machine, loaded);
    /// the longer the speech, the more decoding it saves. Equal to the
    /// transcription result's `embedding`
    /// for audio transcription covers in one window (see
    /// `WhisperTranscriber.embed` for longer audio).
    public func embed(_ batch: [Prepared], context: PipelineContext) async throws(QuernError) -> [Result<[Float], QuernError>] {
        var results: [Result<[Float], QuernError>] = []
        for item in batch {
            try context.checkCancellation()
            do {
                results.append(.success(try transcriber.embed(features: item.features, isCancelled: { Task.isCancelled }).vector))
            } catch {
                results.append(.failure(QuernError(.pipelineFailed, "the speech model's encoder failed: \(error)")))
            }
        }
        try context.checkCancellation()
        return results
    }
}
