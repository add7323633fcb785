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
    /// Files written beside a transcription's result when its request (or
    /// folder defaults) does not choose (`--transcript-files`).
    public var transcriptFiles: [SubtitleFormat]

    public init(limits: InputLimits, textTask: TaskName = .chat, trainingData: TrainingDataFolders = TrainingDataFolders(),
                transcriptFiles: [SubtitleFormat] = []) {
        self.limits = limits
        self.textTask = textTask
        self.trainingData = trainingData
        self.transcriptFiles = transcriptFiles
    }

    /// `route`: the task folder the file was dropped in (`inbox/embed/`), nil
    /// for the inbox itself. A routed file's kind is still decided by content;
    /// the folder decides its task and supplies request defaults.
    public func inspect(name: [UInt8], bytes: [UInt8], route: FolderRoute? = nil) -> Inspection {
        if let route { return inspect(name: name, bytes: bytes, routedBy: route) }
        if bytes.isEmpty { return Inspection(kind: .unknown, outcome: .failure(QuernError(.inputEmpty, "the file is empty (0 bytes)"))) }
        if bytes.count > limits.maxBytes { return Inspection(kind: .unknown, outcome: .failure(tooManyBytes(bytes.count))) }
        if PNGProbe.matches(bytes) || JPEGProbe.matches(bytes) {
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
            return Inspection(kind: .unknown, outcome: .failure(QuernError(.inputUnrecognized, "the file is not a PNG or JPEG image, audio libsndfile can read, or UTF-8 text")))
        }
    }

    private func inspect(name: [UInt8], bytes: [UInt8], routedBy route: FolderRoute) -> Inspection {
        // Empty, oversized and undecodable files fail exactly as in the inbox itself.
        let plain = inspect(name: name, bytes: bytes)
        // (A request is parsed again below: in a folder it may leave out "task".)
        if plain.kind != .request, case .failure = plain.outcome { return plain }
        if let problem = route.problem { return Inspection(kind: plain.kind, outcome: .failure(problem)) }
        let outcome = Result { () throws(QuernError) -> Job in
            switch plain.kind {
            case .request:
                guard case let .object(members) = try? JSONParser.parse(bytes) else { return try requestJob(bytes) }
                return try requestJob(route.merged(with: members))
            case .text:
                guard case let .utf8(text) = TextProbe.classify(bytes) else { throw QuernError(.inputNotUTF8, "the text is not UTF-8") }
                try checkTextLength([text])
                let content: (key: String, value: JSONValue)
                switch route.task {
                case .chat: content = ("messages", .array([.object([("role", .string("user")), ("content", .string(text))])]))
                case .complete: content = ("prompt", .string(text))
                case .embed: content = ("input", .string(text))
                case .classify, .transcribe, .train, .forget: throw kindMismatch("text", route)
                }
                var job = try RequestParser.parse(route.merged(with: [content]))
                // As for plain text in the inbox itself: its embedding joins a chat or completion.
                if route.task != .embed { job.embedsText = true }
                return job
            case .image, .audio:
                let wanted: TaskName = plain.kind == .image ? .classify : .transcribe
                guard route.task == wanted else { throw kindMismatch(plain.kind == .image ? "an image" : "audio", route) }
                // The defaults' fields are checked with a stand-in input, then
                // the file's own bytes take its place.
                var job = try RequestParser.parse(route.merged(with: FolderRoute.standInContent(for: wanted)))
                let (heads, precision) = (job.heads, job.precision)
                switch job.request {
                case let .classify(_, topK, threshold): job = try imageJob(bytes, topK: topK, threshold: threshold, model: job.model)
                case let .transcribe(_, options): job = try audioJob(bytes, options: options, model: job.model)
                default: break
                }
                job.heads = heads
                job.precision = precision
                return job
            case .unknown:
                return try plain.outcome.get()
            }
        }
        return Inspection(kind: plain.kind, outcome: outcome)
    }

    private func kindMismatch(_ what: String, _ route: FolderRoute) -> QuernError {
        QuernError(.unsupported, "\(what) cannot be given to task \(route.task.rawValue) (it was dropped in the folder \(route.label)); drop it in the inbox itself or in its own task's folder")
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
        case .classify, .transcribe, .train, .forget:
            throw QuernError(.unsupported, "text cannot be given to task \(textTask.rawValue)")
        }
    }

    private func requestJob(_ bytes: [UInt8]) throws(QuernError) -> Job {
        try checkedRequest(RequestParser.parse(bytes))
    }

    private func requestJob(_ document: JSONValue) throws(QuernError) -> Job {
        try checkedRequest(RequestParser.parse(document))
    }

    private func checkedRequest(_ job: Job) throws(QuernError) -> Job {
        switch job.request {
        case let .chat(messages, _): try checkTextLength(messages.map(\.content))
        case let .complete(prompt, _): try checkTextLength([prompt])
        case let .embed(inputs, _): try checkTextLength(inputs)
        case let .classify(image, topK, threshold):
            var checked = try imageJob(image, topK: topK, threshold: threshold, model: job.model)
            checked.heads = job.heads
            checked.precision = job.precision
            return checked
        case let .transcribe(audio, options):
            var checked = try audioJob(audio, options: options, model: job.model)
            checked.heads = job.heads
            checked.precision = job.precision
            return checked
        case let .train(request):
            // Never a path as the request wrote it: the real one, inside an allowed folder.
            return Job(request: .train(try trainingData.resolve(request)))
        case .forget: break
        }
        return job
    }

    private func imageJob(_ bytes: [UInt8], topK: Int?, threshold: Float?, model: String?) throws(QuernError) -> Job {
        guard bytes.count <= limits.maxBytes else { throw tooManyBytes(bytes.count) }
        try MediaProbes.checkImage(bytes, maxPixels: limits.maxPixels)
        return Job(request: .classify(image: bytes, topK: topK, threshold: threshold), model: model)
    }

    private func audioJob(_ bytes: [UInt8], options: TranscriptionOptions = TranscriptionOptions(), model: String?) throws(QuernError) -> Job {
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
        // Files beside the result: the request's (or its folder's) choice, else the daemon's.
        var options = options
        if options.files == nil { options.files = transcriptFiles }
        return Job(request: .transcribe(audio: bytes, options: options), model: model)
    }

    private func checkTextLength(_ texts: [String]) throws(QuernError) {
        var total = 0
        for text in texts { total += text.unicodeScalars.count }
        guard total <= limits.maxTextCharacters else {
            throw QuernError(.inputTooLarge, "the text is \(total) characters, more than the limit of \(limits.maxTextCharacters) (raise --max-text-chars)")
        }
    }
}
