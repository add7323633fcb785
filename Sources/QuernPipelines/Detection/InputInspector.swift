import QuernJSON
import QuernMedia
import QuernModels

/// The kind a file was found to be, and either the job to run for it or the
/// error its result will carry.
public struct Inspection: Sendable {
    public var kind: InputKind
    public var outcome: Result<Job, QuernError>

    public init(kind: InputKind, outcome: Result<Job, QuernError>) {
        self.kind = kind
        self.outcome = outcome
    }
}

/// Decides what a file is from its bytes — magic numbers first, then UTF-8
/// validity — and turns it into a validated job. The name is used for one
/// thing only: a `.json` file is always read as a request, so a broken request
/// is reported as one instead of being chatted about as text.
public struct InputInspector: Sendable {
    public var limits: InputLimits
    /// What plain text asks for: a chat reply (default), a completion or an embedding.
    public var textTask: TaskName
    /// Where `train` requests may read datasets (none: they are refused).
    public var trainingData: TrainingDataFolders

    public init(limits: InputLimits, textTask: TaskName = .chat, trainingData: TrainingDataFolders = TrainingDataFolders()) {
        self.limits = limits
        self.textTask = textTask
        self.trainingData = trainingData
    }

    public func inspect(name: [UInt8], bytes: [UInt8]) -> Inspection {
        if bytes.isEmpty { return Inspection(kind: .unknown, outcome: .failure(QuernError(.inputEmpty, "the file is empty (0 bytes)"))) }
        if bytes.count > limits.maxBytes { return Inspection(kind: .unknown, outcome: .failure(tooManyBytes(bytes.count))) }
        if PNGProbe.matches(bytes) {
            return Inspection(kind: .image, outcome: Result { () throws(QuernError) in try imageJob(bytes, topK: nil, threshold: nil, model: nil) })
        }
        if WAVProbe.matches(bytes) {
            return Inspection(kind: .audio, outcome: Result { () throws(QuernError) in try audioJob(bytes, model: nil) })
        }
        switch TextProbe.classify(bytes) {
        case let .utf8(text):
            if Self.isRequest(name: name, text: text) {
                return Inspection(kind: .request, outcome: Result { () throws(QuernError) in try requestJob(bytes) })
            }
            return Inspection(kind: .text, outcome: Result { () throws(QuernError) in try textJob(text) })
        case let .otherEncoding(offset, detail):
            if SoundFileProbe.inspect(bytes) != nil {
                return Inspection(kind: .audio, outcome: Result { () throws(QuernError) in try audioJob(bytes, model: nil) })
            }
            let why = detail.isEmpty ? "byte \(offset) is not part of a valid UTF-8 sequence" : detail
            return Inspection(kind: .text, outcome: .failure(QuernError(.inputNotUTF8, "the text is not UTF-8: \(why); convert it to UTF-8 (e.g. iconv -t UTF-8)")))
        case .binary:
            if SoundFileProbe.inspect(bytes) != nil {
                return Inspection(kind: .audio, outcome: Result { () throws(QuernError) in try audioJob(bytes, model: nil) })
            }
            return Inspection(kind: .unknown, outcome: .failure(QuernError(.inputUnrecognized, "the file is not a PNG image, audio libsndfile can read, or UTF-8 text")))
        }
    }

    /// `.json` files are requests; so is extension-less text that is a JSON
    /// object with a "task" member (e.g. the output of `curl` saved as-is).
    static func isRequest(name: [UInt8], text: String) -> Bool {
        if name.count >= 5, String(decoding: name.suffix(5), as: UTF8.self).lowercased() == ".json" { return true }
        guard text.first(where: { !$0.isWhitespace }) == "{" else { return false }
        guard let document = try? JSONParser.parse(Array(text.utf8)) else { return false }
        return document["task"] != nil
    }

    private func tooManyBytes(_ count: Int) -> QuernError {
        QuernError(.inputTooLarge, "the file is \(count) bytes, more than the limit of \(limits.maxBytes) (raise --max-bytes)")
    }

    private func textJob(_ text: String) throws(QuernError) -> Job {
        try checkTextLength([text])
        switch textTask {
        case .chat: return Job(request: .chat(messages: [ChatMessage(role: .user, content: text)], sampling: SamplingParameters()), embedsText: true)
        case .complete: return Job(request: .complete(prompt: text, sampling: SamplingParameters()), embedsText: true)
        case .embed: return Job(request: .embed(inputs: [text]))
        case .classify, .transcribe, .train:
            throw QuernError(.unsupported, "text cannot be given to task \(textTask.rawValue)")
        }
    }

    private func requestJob(_ bytes: [UInt8]) throws(QuernError) -> Job {
        let job = try RequestParser.parse(bytes)
        switch job.request {
        case let .chat(messages, _): try checkTextLength(messages.map(\.content))
        case let .complete(prompt, _): try checkTextLength([prompt])
        case let .embed(inputs, _): try checkTextLength(inputs)
        case let .classify(image, topK, threshold):
            var checked = try imageJob(image, topK: topK, threshold: threshold, model: job.model)
            checked.heads = job.heads
            return checked
        case let .transcribe(audio, subtitles):
            var checked = try audioJob(audio, subtitles: subtitles, model: job.model)
            checked.heads = job.heads
            return checked
        case let .train(request):
            // Never a path as the request wrote it: the real one, inside an allowed folder.
            return Job(request: .train(try trainingData.resolve(request)))
        }
        return job
    }

    private func imageJob(_ bytes: [UInt8], topK: Int?, threshold: Float?, model: String?) throws(QuernError) -> Job {
        guard bytes.count <= limits.maxBytes else { throw tooManyBytes(bytes.count) }
        try MediaProbes.checkPNG(bytes, maxPixels: limits.maxPixels)
        return Job(request: .classify(image: bytes, topK: topK, threshold: threshold), model: model)
    }

    private func audioJob(_ bytes: [UInt8], subtitles: [SubtitleFormat] = [], model: String?) throws(QuernError) -> Job {
        guard bytes.count <= limits.maxBytes else { throw tooManyBytes(bytes.count) }
        var seconds: Double?
        if WAVProbe.matches(bytes) { seconds = try MediaProbes.wavSeconds(bytes) }
        guard let info = SoundFileProbe.inspect(bytes) else {
            throw QuernError(.inputCorrupt, "libsndfile cannot read this audio (unsupported encoding or damaged header)")
        }
        // Frames over the sample rate, by both counts (a header can lie to
        // one of them); the decoder enforces the limit again frame by frame.
        let duration = max(seconds ?? 0, info.seconds)
        guard duration <= limits.maxAudioSeconds else {
            throw QuernError(.inputTooLarge, "the audio lasts \(Int(duration.rounded())) s, more than the limit of \(Int(limits.maxAudioSeconds)) s (raise --max-audio-seconds)")
        }
        return Job(request: .transcribe(audio: bytes, subtitles: subtitles), model: model)
    }

    private func checkTextLength(_ texts: [String]) throws(QuernError) {
        var total = 0
        for text in texts { total += text.unicodeScalars.count }
        guard total <= limits.maxTextCharacters else {
            throw QuernError(.inputTooLarge, "the text is \(total) characters, more than the limit of \(limits.maxTextCharacters) (raise --max-text-chars)")
        }
    }
}
