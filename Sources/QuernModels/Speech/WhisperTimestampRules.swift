/// Whisper's timestamp rules, as CTranslate2's `ApplyTimestampRules` applies
/// them to each greedy step's logits (OpenAI's `ApplyTimestampRules`):
///
/// - `<|notimestamps|>` is never sampled;
/// - the first token is a timestamp no later than `maxInitialTimestamp`;
/// - timestamps come in pairs: after a lone timestamp, the next token is a
///   timestamp (≥ it) or end-of-text; after a pair, a text token;
/// - timestamps never decrease: after text, only timestamps later than the
///   last one are allowed;
/// - when the probability mass of all timestamps beats the most likely text
///   token, a timestamp is forced.
struct WhisperTimestampRules {
    let endOfText: Int
    let noTimestamps: Int
    let timestampBegin: Int
    /// The last timestamp token (the vocabulary's last token).
    let timestampEnd: Int
    let maxInitialTimestamp: Int

    /// Sets the forbidden logits of step `sampled.count` to −∞. `logits` has
    /// already been through the suppress lists; `logSoftmax` is the tensor
    /// core's, used for the timestamp-versus-text comparison. Returns the
    /// log-probabilities of the final logits when that comparison computed
    /// them and changed nothing afterwards (the caller need not compute them again).
    @discardableResult
    func apply(to logits: inout [Float], sampled: [Int], logSoftmax: ([Float]) -> [Float]) -> [Float]? {
        func forbid(_ range: Range<Int>) {
            if range.isEmpty { return }
            for id in range { logits[id] = -.infinity }
        }
        forbid(noTimestamps..<noTimestamps + 1)
        let step = sampled.count
        if step == 0 {
            forbid(0..<timestampBegin)
            forbid(min(maxInitialTimestamp + 1, timestampEnd + 1)..<timestampEnd + 1)
            return nil
        }
        let last = sampled[step - 1]
        var compareMass = false
        if last >= timestampBegin {
            let penultimate = step >= 2 ? sampled[step - 2] : last
            if penultimate >= timestampBegin {
                forbid(timestampBegin..<timestampEnd + 1)
            } else {
                forbid(0..<endOfText)
                forbid(timestampBegin..<last)
                compareMass = true
            }
        } else {
            compareMass = true
            if let lastTimestamp = sampled.last(where: { $0 >= timestampBegin }) {
                forbid(timestampBegin..<lastTimestamp + 1)
            }
        }
        guard compareMass else { return nil }
        let logProbabilities = logSoftmax(logits)
        var bestText = -Float.infinity
        for id in 0..<timestampBegin where logProbabilities[id] > bestText { bestText = logProbabilities[id] }
        if logSumExp(logProbabilities[timestampBegin...timestampEnd]) > bestText {
            forbid(0..<timestampBegin)
            return nil
        }
        return logProbabilities
    }

    private func logSumExp(_ values: ArraySlice<Float>) -> Float {
        let maximum = values.max() ?? -.infinity
        if maximum == -.infinity { return -.infinity }
        var sum: Float = 0
        for value in values { sum += expf(value - maximum) }
        return maximum + logf(sum)
    }
}

#if canImport(Glibc)
import Glibc
#endif
