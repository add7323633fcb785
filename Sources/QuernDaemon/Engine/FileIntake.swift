import Dispatch
import QuernPipelines

/// A file on its way through: after intake it either needs a model
/// (`needsModel`) or its result is already decided (`decided`).
struct IntakeResult: Sendable {
    enum Next: Sendable {
        case needsModel(job: Job, pipeline: AnyPipeline)
        case decided(QuernError)
    }

    var facts: InputFacts
    var task: TaskName?
    var next: Next
    var timings: Timings
    /// Monotonic nanoseconds when intake finished (the model wait starts here).
    var readyAt: UInt64 = DispatchTime.now().uptimeNanoseconds
}

/// Looks at one file — never following a symlink, never opening anything
/// but a regular file — reads it within the byte limit and inspects it.
/// Shared by the daemon (on claimed files) and `quern run`.
struct FileIntake: Sendable {
    let processor: FileProcessor

    /// `route`: the inbox task folder the file came from (nil: the inbox itself).
    func inspect(path: [UInt8], name: [UInt8], seen: UInt64, route: FolderRoute? = nil) -> IntakeResult {
        let started = DispatchTime.now()
        var timings = Timings()
        timings.queued = Double(started.uptimeNanoseconds &- seen) / 1e9
        func refuse(_ code: ErrorCode, _ message: String, size: Int? = nil) -> IntakeResult {
            timings.decode = FileProcessor.seconds(since: started)
            return IntakeResult(facts: InputFacts(name: name, size: size, sha256: nil, kind: .unknown), task: nil, next: .decided(QuernError(code, message)), timings: timings)
        }
        let bytes: [UInt8]
        let readStart = DispatchTime.now()
        switch read(path: path) {
        case let .bytes(content): bytes = content
        case let .refused(error, size): return refuse(error.code, error.message, size: size)
        }
        let readSeconds = FileProcessor.seconds(since: readStart)
        let inspected = processor.inspect(name: name, bytes: bytes, route: route)
        timings.decode = FileProcessor.seconds(since: started)
        timings.read = readSeconds + inspected.hashSeconds
        switch inspected.outcome {
        case let .success((job, pipeline)):
            return IntakeResult(facts: inspected.facts, task: inspected.task, next: .needsModel(job: job, pipeline: pipeline), timings: timings)
        case let .failure(error):
            return IntakeResult(facts: inspected.facts, task: inspected.task, next: .decided(error), timings: timings)
        }
    }

    enum Read {
        case bytes([UInt8])
        /// Not read: not a regular file, too large or unreadable (`size`
        /// when known).
        case refused(QuernError, size: Int?)
    }

    /// Reads a regular file within the byte limit; anything else is refused
    /// with the error its result carries. (A feeder of the shared queue
    /// reads through here too, so both modes refuse alike.)
    func read(path: [UInt8]) -> Read {
        let status: FileOps.Status
        do {
            guard let found = try FileOps.status(path) else { return .refused(QuernError(.inputUnreadable, "the file disappeared before it could be read"), size: nil) }
            status = found
        } catch {
            return .refused(QuernError(.inputUnreadable, "cannot examine the file: \(error)"), size: nil)
        }
        switch status.type {
        case .regular: break
        case .symlink:
            return .refused(QuernError(.inputSymlink, "symbolic links are not followed; put the file itself in the inbox"), size: nil)
        case .directory:
            return .refused(QuernError(.inputDirectory, "directories are not processed; put the files themselves in the inbox (the directory is archived untouched)"), size: nil)
        case .fifo, .socket, .characterDevice, .blockDevice, .unknown:
            return .refused(QuernError(.inputNotRegularFile, "\(Self.describe(status.type)) is not a regular file; it was not opened"), size: nil)
        }
        let limit = processor.inspector.limits.maxBytes
        do {
            switch try FileOps.readFile(path, limit: limit) {
            case let .bytes(content): return .bytes(content)
            case let .tooLarge(size):
                return .refused(QuernError(.inputTooLarge, "the file is \(size) bytes, more than the limit of \(limit) (raise --max-bytes)"), size: size)
            }
        } catch {
            return .refused(QuernError(.inputUnreadable, "cannot read the file: \(error)"), size: status.size)
        }
    }

    /// The memory processing the file will need at its peak, from its size and
    /// first bytes (0 for anything that is not a regular file: it is refused
    /// without being read).
    func memoryEstimate(path: [UInt8]) -> Int {
        guard let status = try? FileOps.status(path), status.type == .regular else { return 0 }
        let prefix = (try? FileOps.readPrefix(path, count: MemoryEstimate.prefixLength)) ?? []
        return MemoryEstimate.bytes(size: status.size, prefix: prefix, limits: processor.inspector.limits)
    }

    private static func describe(_ type: FileOps.EntryType) -> String {
        switch type {
        case .fifo: return "a FIFO (named pipe)"
        case .socket: return "a socket"
        case .characterDevice: return "a character device"
        case .blockDevice: return "a block device"
        default: return "this entry"
        }
    }
}
