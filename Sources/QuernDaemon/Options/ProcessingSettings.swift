import Logging
import QuernPipelines
import QuernQueue
import QuernTensor

/// What `quern serve` and `quern run` share, read through `DaemonOptions`
/// before anything is loaded, so a bad value fails at once.
public struct ProcessingSettings: Sendable {
    public var modelsDirectory: String
    public var limits: InputLimits
    public var textTask: TaskName
    /// Files beside a transcription's result (`--transcript-files`).
    public var transcriptFiles: [SubtitleFormat]
    public var timeout: Duration
    public var logLevel: Logger.Level
    /// nil: every core.
    public var threads: Int?
    public var diagnostic: Bool
    public var diagnosticDelay: Duration
    /// Where `train` requests may read datasets (`--train-data-dir`).
    public var trainingData: TrainingDataFolders
    /// Load every model at start (`--preload`).
    public var preload: Bool
    /// Unload a model idle this long (`--model-idle-unload`); nil: never.
    public var modelIdleUnload: Duration?
    /// Where conversations are kept (`--conversations`); `quern serve`
    /// fills in `<inbox>/.quern/conversations` when it is not given.
    public var conversationsDirectory: String?
    /// `--conversation-cache`, in bytes.
    public var conversationCacheBytes: Int
    /// `--precision`: each task's precision when its request does not say.
    public var precisions: [TaskName: Precision]

    public static let defaultModelIdleUnloadSeconds = 600.0

    public init(_ sources: OptionSources) throws(DaemonOptionError) {
        typealias O = DaemonOptions
        modelsDirectory = try O.models.resolve(sources)
        limits = InputLimits(
            maxBytes: try O.maxBytes.resolve(sources), maxPixels: try O.maxPixels.resolve(sources),
            maxAudioSeconds: try O.maxAudioSeconds.resolve(sources), maxTextCharacters: try O.maxTextChars.resolve(sources))
        textTask = try O.textTask.resolve(sources)
        transcriptFiles = try O.transcriptFiles.resolve(sources)
        timeout = Self.duration(seconds: try O.timeout.resolve(sources))
        logLevel = try O.logLevel.resolve(sources)
        threads = try O.threads.resolve(sources)
        diagnostic = try O.diagnosticPipeline.resolve(sources)
        diagnosticDelay = .milliseconds(try O.diagnosticDelayMs.resolve(sources))
        trainingData = TrainingDataFolders(realPaths: try O.trainDataDir.resolve(sources))
        preload = try O.preload.resolve(sources)
        let idle = try O.modelIdleUnload.resolve(sources)
        modelIdleUnload = idle > 0 ? Self.duration(seconds: idle) : nil
        conversationsDirectory = try O.conversations.resolve(sources)
        conversationCacheBytes = try O.conversationCache.resolve(sources)
        precisions = try O.precision.resolve(sources)
    }

    /// `quern serve`'s conversations folder when none was given: in the
    /// inbox's state folder, beside the work area.
    public static func defaultConversationsDirectory(inbox: String) -> String {
        (inbox.hasSuffix("/") ? String(inbox.dropLast()) : inbox) + "/.quern/conversations"
    }

    /// The conversation store and cache, the folder created when missing;
    /// nil without a folder.
    public func conversations() throws(QuernError) -> Conversations? {
        guard let conversationsDirectory else { return nil }
        return Conversations(store: try ConversationStore(directory: conversationsDirectory), cacheBytes: conversationCacheBytes)
    }

    /// How every file is looked at before a model runs.
    public var inspector: InputInspector {
        InputInspector(limits: limits, textTask: textTask, trainingData: trainingData, transcriptFiles: transcriptFiles)
    }

    /// What the pipelines are built from.
    public var catalogOptions: PipelineCatalog.Options {
        var options = PipelineCatalog.Options(modelsDirectory: modelsDirectory, diagnostic: diagnostic, diagnosticDelay: diagnosticDelay,
                                              limits: limits, trainingData: trainingData, preload: preload, idleUnload: modelIdleUnload)
        options.precisions = precisions
        return options
    }

    /// Whole milliseconds, as the lanes count them. The option parser keeps
    /// seconds finite and small enough for this not to overflow.
    static func duration(seconds: Double) -> Duration { .milliseconds(Int64(seconds * 1000)) }
}

extension DaemonConfiguration {
    /// The `serve` options of `sources`: directories, watching, shutdown,
    /// attempts and memory; `timeout` comes from `ProcessingSettings`.
    public init(_ sources: OptionSources, timeout: Duration) throws(DaemonOptionError) {
        typealias O = DaemonOptions
        let archive = try O.archive.resolve(sources)
        let layout = DaemonLayout(
            inbox: try O.inbox.resolve(sources), outbox: try O.outbox.resolve(sources), work: try O.work.resolve(sources),
            done: try O.done.resolve(sources) ?? archive.map { $0 + "/done" },
            failed: try O.failed.resolve(sources) ?? archive.map { $0 + "/failed" })
        self.init(layout: layout)
        watchMode = try O.poll.resolve(sources) ? .polling : .automatic
        pollInterval = try O.pollInterval.resolve(sources)
        settle = try O.settle.resolve(sources)
        shutdownGrace = ProcessingSettings.duration(seconds: try O.shutdownGrace.resolve(sources))
        maxAttempts = try O.maxAttempts.resolve(sources)
        maxMemory = try O.maxMemory.resolve(sources)
        retention.keepInputs = try O.keepInputs.resolve(sources)
        retention.inputsMaxAge = try O.keepInputsDays.resolve(sources)
        retention.inputsMaxBytes = try O.keepInputsSize.resolve(sources)
        retention.resultsMaxAge = try O.keepResultsDays.resolve(sources)
        retention.resultsMaxBytes = try O.keepResultsSize.resolve(sources)
        retention.sweepInterval = try O.retentionInterval.resolve(sources)
        let inbox = try O.inbox.resolve(sources)
        statusFile = try O.statusFile.resolve(sources) ?? DaemonConfiguration.defaultStatusFile(inbox: inbox)
        self.timeout = timeout
        // Every queue option is checked, whether --queue is given or not.
        let sharedFolder = try O.shared.resolve(sources)
        let passwordFile = try O.queuePasswordFile.resolve(sources)
        let leaseSeconds = try O.queueLease.resolve(sources)
        let prefetch = try O.queuePrefetch.resolve(sources)
        let feedOnly = try O.queueFeedOnly.resolve(sources)
        if let location = try O.queue.resolve(sources) {
            guard let shared = sharedFolder else {
                throw DaemonOptionError(option: O.shared.flag, origin: .defaultValue, value: "",
                                        expected: "a folder every worker shares, given with \(O.queue.flag)")
            }
            let password: String?
            do {
                password = try QueuePassword.resolve(file: passwordFile, for: location)
            } catch {
                throw DaemonOptionError(option: O.queuePasswordFile.flag, origin: .defaultValue, value: passwordFile ?? "", expected: error.message)
            }
            var settings = QueueSettings(location: location, password: password, shared: shared)
            settings.leaseSeconds = leaseSeconds
            settings.works = !feedOnly
            settings.prefetch = prefetch
            queue = settings
        }
    }
}
