import Foundation
import Logging
import QuernHTTP
import QuernPipelines
import QuernQueue
import QuernTensor

/// Every option of `quern serve` and `quern run`, declared once: flag,
/// `QUERN_*` variable, configuration-file key (the flag's name), default,
/// help and what SIGHUP does with it. `--help` and the options table in
/// docs/daemon.md are generated from it (a test checks the doc), and
/// `ProcessingSettings` and `DaemonConfiguration(options:)` read values
/// through it, so a bad value is the same error wherever it came from.
public enum DaemonOptions {
    static let both: Set<DaemonCommand> = [.serve, .run]

    // MARK: Where things are

    public static let inbox = DaemonOption<String>(
        "inbox", variable: "QUERN_INBOX", valueName: "dir", summary: "Directory to watch",
        default: "./inbox", shown: "./inbox", commands: [.serve], parser: .path)
    public static let outbox = DaemonOption<String>(
        "outbox", variable: "QUERN_OUTBOX", valueName: "dir", summary: "Where results go",
        default: "./outbox", shown: "./outbox", commands: [.serve], parser: .path)
    public static let models = DaemonOption<String>(
        "models", variable: "QUERN_MODELS", valueName: "dir", summary: "Model directory",
        default: "./models", shown: "./models", commands: both, parser: .path)
    public static let work = DaemonOption<String?>(
        "work", variable: "QUERN_WORK", valueName: "dir", summary: "Work area for claimed inputs",
        default: nil, shown: "<inbox>/.quern/work", commands: [.serve], parser: OptionValueParser.path.optional)
    public static let archive = DaemonOption<String?>(
        "archive", variable: "QUERN_ARCHIVE", valueName: "dir", summary: "Archive root holding done/ and failed/",
        default: nil, shown: "<inbox>/.quern/archive", commands: [.serve], parser: OptionValueParser.path.optional)
    public static let done = DaemonOption<String?>(
        "done", variable: "QUERN_DONE", valueName: "dir", summary: "Archive for inputs with an ok result",
        default: nil, shown: "<archive>/done", commands: [.serve], parser: OptionValueParser.path.optional)
    public static let failed = DaemonOption<String?>(
        "failed", variable: "QUERN_FAILED", valueName: "dir", summary: "Archive for inputs with an error result",
        default: nil, shown: "<archive>/failed", commands: [.serve], parser: OptionValueParser.path.optional)
    public static let statusFile = DaemonOption<String?>(
        "status-file", variable: "QUERN_STATUS_FILE", valueName: "file",
        summary: "Status file the daemon rewrites every second, which quern status reads",
        default: nil, shown: "<inbox>/.quern/status.json", commands: [.serve], parser: OptionValueParser.path.optional)

    // MARK: Retention

    public static let keepInputs = DaemonOption<RetentionPolicy.KeepInputs>(
        "keep-inputs", variable: "QUERN_KEEP_INPUTS", valueName: "when",
        summary: "Which processed inputs the archive keeps: always; failed (an input is deleted once its ok result is durable); never (deleted once any result is durable)",
        default: .always, shown: RetentionPolicy.KeepInputs.always.rawValue, commands: [.serve], parser: .keepInputs)
    public static let keepInputsDays = DaemonOption<Double?>(
        "keep-inputs-days", variable: "QUERN_KEEP_INPUTS_DAYS", valueName: "days",
        summary: "Delete archived inputs this many days after they were archived (fractions allowed)",
        default: nil, shown: "forever", commands: [.serve], parser: OptionValueParser.days.optional)
    public static let keepInputsSize = DaemonOption<Int?>(
        "keep-inputs-size", variable: "QUERN_KEEP_INPUTS_SIZE", valueName: "size",
        summary: "Largest the archive may grow, e.g. 10G; the oldest inputs are deleted first",
        default: nil, shown: "no limit", commands: [.serve], parser: OptionValueParser.size.optional)
    public static let keepResultsDays = DaemonOption<Double?>(
        "keep-results-days", variable: "QUERN_KEEP_RESULTS_DAYS", valueName: "days",
        summary: "Delete results from the outbox this many days after they were written (fractions allowed)",
        default: nil, shown: "forever", commands: [.serve], parser: OptionValueParser.days.optional)
    public static let keepResultsSize = DaemonOption<Int?>(
        "keep-results-size", variable: "QUERN_KEEP_RESULTS_SIZE", valueName: "size",
        summary: "Largest the results in the outbox may grow, e.g. 1G; the oldest are deleted first",
        default: nil, shown: "no limit", commands: [.serve], parser: OptionValueParser.size.optional)
    public static let retentionInterval = DaemonOption<Double>(
        "retention-interval", variable: "QUERN_RETENTION_INTERVAL", valueName: "s",
        summary: "Seconds between retention sweeps (there is one at start-up too) when any keep- option limits something",
        default: RetentionPolicy.defaultSweepInterval, shown: seconds(RetentionPolicy.defaultSweepInterval), commands: [.serve],
        parser: .seconds(allowingZero: false))

    // MARK: Watching

    public static let poll = DaemonOption<Bool>(
        "poll", variable: "QUERN_POLL", valueName: nil,
        summary: "Poll the inbox instead of using inotify; automatic on network file systems",
        default: false, shown: "off", commands: [.serve], parser: .onOff)
    public static let pollInterval = DaemonOption<Double>(
        "poll-interval", variable: "QUERN_POLL_INTERVAL", valueName: "s", summary: "Seconds between inbox listings when polling",
        default: DaemonConfiguration.defaultPollInterval, shown: seconds(DaemonConfiguration.defaultPollInterval),
        commands: [.serve], parser: .seconds(allowingZero: false))
    public static let settle = DaemonOption<Double>(
        "settle", variable: "QUERN_SETTLE", valueName: "s",
        summary: "Seconds a file must stay unchanged before it is taken without a close event",
        default: DaemonConfiguration.defaultSettle, shown: seconds(DaemonConfiguration.defaultSettle),
        commands: [.serve], parser: .seconds(allowingZero: true))

    // MARK: Running

    public static let timeout = DaemonOption<Double>(
        "timeout", variable: "QUERN_TIMEOUT", valueName: "s",
        summary: "Seconds the preparation (decoding, tokenizing) and the model may each take per batch before the file gets a timeout error",
        default: DaemonConfiguration.defaultTimeoutSeconds, shown: seconds(DaemonConfiguration.defaultTimeoutSeconds),
        commands: both, parser: .seconds(allowingZero: false))
    public static let shutdownGrace = DaemonOption<Double>(
        "shutdown-grace", variable: "QUERN_SHUTDOWN_GRACE", valueName: "s", summary: "Seconds SIGTERM waits for a running inference",
        default: DaemonConfiguration.defaultShutdownGraceSeconds, shown: seconds(DaemonConfiguration.defaultShutdownGraceSeconds),
        commands: [.serve], onReload: .applied, parser: .seconds(allowingZero: true))
    public static let maxAttempts = DaemonOption<Int>(
        "max-attempts", variable: "QUERN_MAX_ATTEMPTS", valueName: "n",
        summary: "Crashes on one input before it gets an error result instead",
        default: DaemonConfiguration.defaultMaxAttempts, shown: String(DaemonConfiguration.defaultMaxAttempts),
        commands: [.serve], parser: .wholeNumber(1...1_000_000))
    public static let textTask = DaemonOption<TaskName>(
        "text-task", variable: "QUERN_TEXT_TASK", valueName: "task", summary: "What plain text asks for: chat, complete or embed",
        default: .chat, shown: TaskName.chat.rawValue, commands: both, parser: .task(among: [.chat, .complete, .embed]))
    public static let transcriptFiles = DaemonOption<[SubtitleFormat]>(
        "transcript-files", variable: "QUERN_TRANSCRIPT_FILES", valueName: "formats",
        summary: "Files written beside a transcription's JSON result in the outbox: srt, vtt, txt, separated by commas (talk.wav gives talk.wav.srt beside talk.wav.json); a request's transcript_files, or its folder's .quern-defaults.json, chooses for itself",
        default: [], shown: "none", commands: [.serve], parser: .transcriptFormats)
    public static let threads = DaemonOption<Int?>(
        "threads", variable: "QUERN_THREADS", valueName: "n", summary: "Compute threads for BLAS and Quern's kernels",
        default: nil, shown: "every core", commands: both, parser: OptionValueParser.wholeNumber(1...maximumThreads).optional)
    public static let logLevel = DaemonOption<Logger.Level>(
        "log-level", variable: "QUERN_LOG_LEVEL", valueName: "level",
        summary: "Log level: " + Logger.Level.allCases.map(\.rawValue).joined(separator: ", "),
        default: .info, shown: Logger.Level.info.rawValue, commands: both, onReload: .applied, parser: .logLevel)
    public static let logFormat = DaemonOption<LogFormat>(
        "log-format", variable: "QUERN_LOG_FORMAT", valueName: "format",
        summary: "Log lines as logfmt (key=value) or json (one object per line, the same fields)",
        default: .logfmt, shown: LogFormat.logfmt.rawValue, commands: both, onReload: .applied, parser: .logFormat)
    public static let logFile = DaemonOption<String?>(
        "log-file", variable: "QUERN_LOG_FILE", valueName: "path",
        summary: "Append log lines to this file instead of stderr; SIGHUP and SIGUSR1 open it again (for logrotate)",
        default: nil, shown: "stderr", commands: both, onReload: .applied, parser: OptionValueParser.path.optional)

    // MARK: The configuration file

    public static let config = DaemonOption<String?>(
        "config", variable: "QUERN_CONFIG", valueName: "file",
        summary: "TOML file of options, keys named as the flags (max-memory = \"2G\"); flags and QUERN_* variables win over it",
        default: nil, shown: ConfigurationLoader.defaultPath + " when it exists", commands: both, fileKey: false,
        parser: OptionValueParser.path.optional)

    // MARK: Limits

    public static let maxBytes = DaemonOption<Int>(
        "max-bytes", variable: "QUERN_MAX_BYTES", valueName: "n", summary: "Largest input file in bytes",
        default: InputLimits().maxBytes, shown: byteCount(InputLimits().maxBytes), commands: both, parser: .wholeNumber(1...Int.max))
    public static let maxPixels = DaemonOption<Int>(
        "max-pixels", variable: "QUERN_MAX_PIXELS", valueName: "n", summary: "Largest image, width × height",
        default: InputLimits().maxPixels, shown: String(InputLimits().maxPixels), commands: both, parser: .wholeNumber(1...Int.max))
    public static let maxAudioSeconds = DaemonOption<Double>(
        "max-audio-seconds", variable: "QUERN_MAX_AUDIO_SECONDS", valueName: "s", summary: "Longest audio in seconds",
        default: InputLimits().maxAudioSeconds, shown: seconds(InputLimits().maxAudioSeconds), commands: both,
        parser: .seconds(allowingZero: false))
    public static let maxTextChars = DaemonOption<Int>(
        "max-text-chars", variable: "QUERN_MAX_TEXT_CHARS", valueName: "n", summary: "Longest text in characters",
        default: InputLimits().maxTextCharacters, shown: String(InputLimits().maxTextCharacters), commands: both,
        parser: .wholeNumber(1...Int.max))
    public static let maxMemory = DaemonOption<Int?>(
        "max-memory", variable: "QUERN_MAX_MEMORY", valueName: "size",
        summary: "Peak memory to stay under, e.g. 2G or 1500M; inputs wait their turn as files until what the models leave of it fits them",
        default: nil, shown: "three quarters of the cgroup's or machine's memory", commands: [.serve], parser: OptionValueParser.size.optional)

    // MARK: Models

    public static let preload = DaemonOption<Bool>(
        "preload", variable: "QUERN_PRELOAD", valueName: nil,
        summary: "Load every model at start instead of on its first file",
        default: false, shown: "off", commands: [.serve], parser: .onOff)
    public static let modelIdleUnload = DaemonOption<Double>(
        "model-idle-unload", variable: "QUERN_MODEL_IDLE_UNLOAD", valueName: "s",
        summary: "Seconds a model may sit unused before it is unloaded (memory returned); 0: never",
        default: ProcessingSettings.defaultModelIdleUnloadSeconds, shown: seconds(ProcessingSettings.defaultModelIdleUnloadSeconds),
        commands: [.serve], parser: .seconds(allowingZero: true))

    public static let precision = DaemonOption<[TaskName: Precision]>(
        "precision", variable: "QUERN_PRECISION", valueName: "task=precision",
        summary: "What the products of a task's model run in when its request does not say (\"precision\"): float32, or bfloat16 (about twice as fast on CPUs with AVX512-BF16, at the fidelity docs/precision.md measures); TASK=PRECISION pairs for embed, classify and transcribe separated by commas, or one precision for all three",
        default: [:], shown: "float32", commands: both, parser: .taskPrecisions)

    // MARK: Conversations

    public static let conversations = DaemonOption<String?>(
        "conversations", variable: "QUERN_CONVERSATIONS", valueName: "dir",
        summary: "Folder where the conversations chat requests name are kept (\"conversation\": \"ID\"); quern run refuses them without one",
        default: nil, shown: "serve: <inbox>/.quern/conversations; run: none", commands: both, parser: OptionValueParser.path.optional)
    public static let conversationCache = DaemonOption<Int>(
        "conversation-cache", variable: "QUERN_CONVERSATION_CACHE", valueName: "size",
        summary: "Memory kept for the keys and values of recent conversations, so a follow-up turn runs only its new tokens (LRU; 0: off)",
        default: Conversations.defaultCacheBytes, shown: "256M", commands: both, parser: .sizeOrZero)

    // MARK: Monitoring

    public static let metricsListen = DaemonOption<ListenAddress?>(
        "metrics-listen", variable: "QUERN_METRICS_LISTEN", valueName: "host:port",
        summary: "Serve /metrics (Prometheus), /health and /ready over HTTP on this address, e.g. 127.0.0.1:9464; port 0 takes a free port, logged as metrics_listen",
        default: nil, shown: "off", commands: [.serve], parser: OptionValueParser.listenAddress.optional)
    public static let httpListen = DaemonOption<ListenAddress?>(
        "http-listen", variable: "QUERN_HTTP_LISTEN", valueName: "host:port",
        summary: "Serve the OpenAI-compatible HTTP API (docs/api.md), plus /metrics, /health and /ready, on this address, e.g. 127.0.0.1:8080; keep it on loopback unless --api-key-file is set; port 0 takes a free port, logged as http_listen",
        default: nil, shown: "off", commands: [.serve], parser: OptionValueParser.listenAddress.optional)
    public static let apiKeyFile = DaemonOption<String?>(
        "api-key-file", variable: "QUERN_API_KEY_FILE", valueName: "file",
        summary: "File holding the bearer token every HTTP API request must send (Authorization: Bearer <key>); one line, read at start",
        default: nil, shown: "none: no authentication", commands: [.serve], parser: OptionValueParser.path.optional)

    // MARK: Scale-out (docs/scale-out.md)

    public static let queue = DaemonOption<QueueLocation?>(
        "queue", variable: "QUERN_QUEUE", valueName: "url",
        summary: "Share one job queue in PostgreSQL with other workers, e.g. postgres://quern@db.example/quern?sslmode=require: inbox files become jobs, and jobs of any node are taken; needs --shared",
        default: nil, shown: "off: serve the inbox alone", commands: [.serve], parser: OptionValueParser.queueLocation.optional)
    public static let queuePasswordFile = DaemonOption<String?>(
        "queue-password-file", variable: "QUERN_QUEUE_PASSWORD_FILE", valueName: "file",
        summary: "File holding the queue's PostgreSQL password on its first line (else PGPASSFILE or ~/.pgpass is read)",
        default: nil, shown: "none", commands: [.serve], parser: OptionValueParser.path.optional)
    public static let shared = DaemonOption<String?>(
        "shared", variable: "QUERN_SHARED", valueName: "dir",
        summary: "Folder every worker of the queue shares (NFS or local): inputs wait in it, results land in its outbox/",
        default: nil, shown: "none", commands: [.serve], parser: OptionValueParser.path.optional)
    public static let queueLease = DaemonOption<Double>(
        "queue-lease", variable: "QUERN_QUEUE_LEASE", valueName: "s",
        summary: "Seconds a worker's claim on a job lasts without renewal (renewed every third of it); a dead worker's jobs run elsewhere after it",
        default: 30, shown: "30", commands: [.serve], parser: .seconds(allowingZero: false))
    public static let queuePrefetch = DaemonOption<Int>(
        "queue-prefetch", variable: "QUERN_QUEUE_PREFETCH", valueName: "n",
        summary: "Jobs a worker leases ahead of what it runs; lower it (e.g. 2) for long jobs so idle workers get them, raise it for many tiny ones",
        default: 16, shown: "16", commands: [.serve], parser: .wholeNumber(1...1024))
    public static let queueFeedOnly = DaemonOption<Bool>(
        "queue-feed-only", variable: "QUERN_QUEUE_FEED_ONLY", valueName: nil,
        summary: "Only feed this node's inbox to the queue; take no jobs (no model is loaded for them)",
        default: false, shown: "off", commands: [.serve], parser: .onOff)

    // MARK: Training

    public static let trainDataDir = DaemonOption<[String]>(
        "train-data-dir", variable: "QUERN_TRAIN_DATA_DIR", valueName: "dir",
        summary: "Folder train requests may read datasets from (symlinks resolved); repeat the flag, or separate folders with : in the variable",
        default: [], shown: "none: train requests are refused", commands: both, parser: .folderList)

    // MARK: Output, tests and benchmarks

    public static let pretty = DaemonOption<Bool>(
        "pretty", variable: nil, valueName: nil, summary: "Indent the JSON, one document per file instead of JSON Lines",
        default: false, shown: "off", commands: [.run], parser: .onOff)
    public static let diagnosticPipeline = DaemonOption<Bool>(
        "diagnostic-pipeline", variable: "QUERN_DIAGNOSTIC_PIPELINE", valueName: nil,
        summary: "Replace every model by the diagnostic pipeline, which only counts bytes and lines. For tests and overhead benchmarks",
        default: false, shown: "off", commands: both, hidden: true, parser: .onOff)
    public static let diagnosticDelayMs = DaemonOption<Int>(
        "diagnostic-delay-ms", variable: "QUERN_DIAGNOSTIC_DELAY_MS", valueName: "ms",
        summary: "Artificial delay per file in the diagnostic pipeline, in milliseconds",
        default: 0, shown: "0", commands: both, hidden: true, parser: .wholeNumber(0...3_600_000))

    /// More compute threads than any machine Quern runs on has cores; a
    /// typo such as 10000 would otherwise start that many threads.
    public static let maximumThreads = 1024

    /// Every option, in the order help and the docs list them.
    public static let all: [AnyDaemonOption] = [
        AnyDaemonOption(config), AnyDaemonOption(inbox), AnyDaemonOption(outbox), AnyDaemonOption(models), AnyDaemonOption(work), AnyDaemonOption(archive),
        AnyDaemonOption(done), AnyDaemonOption(failed), AnyDaemonOption(statusFile), AnyDaemonOption(keepInputs), AnyDaemonOption(keepInputsDays),
        AnyDaemonOption(keepInputsSize), AnyDaemonOption(keepResultsDays), AnyDaemonOption(keepResultsSize),
        AnyDaemonOption(retentionInterval), AnyDaemonOption(poll), AnyDaemonOption(pollInterval), AnyDaemonOption(settle),
        AnyDaemonOption(timeout), AnyDaemonOption(shutdownGrace), AnyDaemonOption(maxAttempts), AnyDaemonOption(maxBytes),
        AnyDaemonOption(maxPixels), AnyDaemonOption(maxAudioSeconds), AnyDaemonOption(maxTextChars), AnyDaemonOption(maxMemory),
        AnyDaemonOption(preload), AnyDaemonOption(modelIdleUnload), AnyDaemonOption(precision), AnyDaemonOption(textTask), AnyDaemonOption(transcriptFiles), AnyDaemonOption(logLevel),
        AnyDaemonOption(logFormat), AnyDaemonOption(logFile), AnyDaemonOption(threads), AnyDaemonOption(metricsListen), AnyDaemonOption(httpListen),
        AnyDaemonOption(apiKeyFile), AnyDaemonOption(queue), AnyDaemonOption(queuePasswordFile), AnyDaemonOption(shared),
        AnyDaemonOption(queueLease), AnyDaemonOption(queuePrefetch), AnyDaemonOption(queueFeedOnly), AnyDaemonOption(trainDataDir),
        AnyDaemonOption(conversations), AnyDaemonOption(conversationCache), AnyDaemonOption(pretty),
        AnyDaemonOption(diagnosticPipeline), AnyDaemonOption(diagnosticDelayMs),
    ]

    /// The options table of docs/daemon.md; a test keeps the doc equal to
    /// it, so the doc cannot drift from the flags, variables and defaults.
    public static var markdownTable: String {
        var lines = ["| option | environment | default | commands | on SIGHUP | what it does |", "| --- | --- | --- | --- | --- | --- |"]
        for option in all where !option.isHidden {
            let flag = "`" + option.flag + (option.valueName.map { " " + $0.uppercased() } ?? "") + "`"
            let variable = option.variable.map { "`" + $0 + (option.valueName == nil ? "=1" : "") + "`" } ?? "—"
            // Literal values as code; a description ("every core") as prose.
            let isLiteral = !option.defaultText.contains(" ") || option.defaultText.contains("<")
            let shown = isLiteral ? "`" + option.defaultText + "`" : option.defaultText
            let commands = DaemonCommand.allCases.filter(option.commands.contains).map(\.rawValue).joined(separator: ", ")
            // SIGHUP concerns the daemon: an option only `run` reads has nothing to reload.
            let reload = option.commands.contains(.serve) && option.isFileKey ? option.onReload.rawValue : "—"
            lines.append("| \(flag) | \(variable) | \(shown) | \(commands) | \(reload) | \(option.summary) |")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    static func seconds(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int(value)) : String(value)
    }

    static func byteCount(_ value: Int) -> String {
        value > 0 && value % (1 << 20) == 0 ? "\(value) = \(value >> 20) MiB" : String(value)
    }
}

/// An option without its value type, for listing (help, docs, tests) and
/// for what works on every option alike: the configuration file's keys,
/// `quern config`, checking a reloaded configuration.
public struct AnyDaemonOption: Sendable {
    public let name: String
    public let variable: String?
    public let valueName: String?
    public let summary: String
    public let help: String
    public let defaultText: String
    public let expected: String
    public let commands: Set<DaemonCommand>
    public let isHidden: Bool
    public let onReload: ReloadBehavior
    public let isFileKey: Bool
    /// Valid texts, consecutive ones different (see `OptionValueParser.examples`).
    public let examples: [String]
    /// Non-nil for an option that takes several values (the file may give an array).
    public let listSeparator: String?
    private let check: @Sendable (OptionSources) throws(DaemonOptionError) -> Void

    public init<Value>(_ option: DaemonOption<Value>) {
        name = option.name
        variable = option.variable
        valueName = option.valueName
        summary = option.summary
        help = option.help
        defaultText = option.defaultText
        expected = option.expected
        commands = option.commands
        isHidden = option.isHidden
        onReload = option.onReload
        isFileKey = option.isFileKey
        examples = option.parser.examples
        listSeparator = option.parser.listSeparator
        check = { sources throws(DaemonOptionError) in _ = try option.resolve(sources) }
    }

    public var flag: String { "--" + name }
    public var isSwitch: Bool { valueName == nil }

    /// Throws the option's error when the value that wins in `sources` is not valid.
    public func validate(_ sources: OptionSources) throws(DaemonOptionError) { try check(sources) }

    /// Where the winning value comes from.
    public func origin(in sources: OptionSources) -> OptionOrigin {
        sources.setting(of: name, variable: variable, fileKey: isFileKey, listSeparator: listSeparator)?.origin ?? .defaultValue
    }

    /// The winning value as text — what was given (a switch as on or off),
    /// or the default as the docs show it — for `quern config` and for
    /// telling which options a reload changed.
    public func effectiveText(in sources: OptionSources) -> String {
        guard let setting = sources.setting(of: name, variable: variable, fileKey: isFileKey, listSeparator: listSeparator) else { return defaultText }
        if isSwitch, let on = OptionValueParser<Bool>.onOff.parse(setting.text) { return on ? "on" : "off" }
        return setting.text
    }
}

extension OptionValueParser where Value == TaskName {
    static func task(among tasks: [TaskName]) -> Self {
        Self(expected: "one of " + tasks.map(\.rawValue).joined(separator: ", "), examples: tasks.map(\.rawValue)) { text in
            TaskName(rawValue: text).flatMap { tasks.contains($0) ? $0 : nil }
        }
    }
}

extension OptionValueParser where Value == [SubtitleFormat] {
    /// Transcript file formats separated by commas; "none" for none.
    static var transcriptFormats: Self {
        Self(expected: "srt, vtt and/or txt separated by commas, or none", examples: ["srt", "vtt,txt", "srt,vtt,txt"], listSeparator: ",") {
            SubtitleFormat.list($0)
        }
    }
}

extension OptionValueParser where Value == RetentionPolicy.KeepInputs {
    static var keepInputs: Self {
        Self(expected: "one of " + RetentionPolicy.KeepInputs.allCases.map(\.rawValue).joined(separator: ", "),
             examples: RetentionPolicy.KeepInputs.allCases.map(\.rawValue)) {
            RetentionPolicy.KeepInputs(rawValue: $0)
        }
    }
}

extension OptionValueParser where Value == Double {
    /// Days above 0, up to a hundred years; given in seconds (what the sweeper compares).
    static var days: Self {
        Self(expected: "a number of days above 0 up to 36500", examples: ["30", "0.5", "365"]) { text in
            guard let value = Double(text), value.isFinite, value > 0, value <= 36500 else { return nil }
            return value * 86400
        }
    }
}

extension OptionValueParser where Value == ListenAddress {
    static var listenAddress: Self {
        Self(expected: ListenAddress.expected, examples: ["127.0.0.1:9464", "[::1]:9464", "0.0.0.0:0"]) { ListenAddress($0) }
    }
}

extension OptionValueParser where Value == Logger.Level {
    static var logLevel: Self {
        Self(expected: "one of " + Logger.Level.allCases.map(\.rawValue).joined(separator: ", "), examples: ["warning", "debug", "error"]) {
            Logger.Level(rawValue: $0)
        }
    }
}

extension OptionValueParser where Value == LogFormat {
    static var logFormat: Self {
        Self(expected: "one of " + LogFormat.allCases.map(\.rawValue).joined(separator: ", "), examples: LogFormat.allCases.map(\.rawValue)) {
            LogFormat(rawValue: $0)
        }
    }
}

extension OptionValueParser where Value == [TaskName: Precision] {
    /// The tasks whose models offer a precision.
    static let tasksWithPrecision: [TaskName] = [.embed, .classify, .transcribe]

    static var taskPrecisions: Self {
        Self(expected: "float32 or bfloat16, or TASK=PRECISION pairs (tasks: embed, classify, transcribe) separated by commas",
             examples: ["bfloat16", "classify=bfloat16", "embed=bfloat16,transcribe=float32"], listSeparator: ",") { text in
            var precisions: [TaskName: Precision] = [:]
            for item in text.split(separator: ",", omittingEmptySubsequences: false) {
                let parts = item.trimmingCharacters(in: .whitespaces).split(separator: "=", omittingEmptySubsequences: false).map(String.init)
                if parts.count == 1 {
                    guard let precision = Precision(rawValue: parts[0]) else { return nil }
                    for task in tasksWithPrecision { precisions[task] = precision }
                } else {
                    guard parts.count == 2, let task = TaskName(rawValue: parts[0]), tasksWithPrecision.contains(task),
                          let precision = Precision(rawValue: parts[1]) else { return nil }
                    precisions[task] = precision
                }
            }
            return precisions
        }
    }
}
