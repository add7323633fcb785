#if canImport(Glibc)
import Glibc
#endif
import Dispatch
import Foundation
import Logging
import QuernPipelines
import Synchronization

/// Deletes archived inputs and results the retention policy no longer keeps:
/// once at start-up, then every `sweepInterval` on a thread of its own, and an
/// input right after its result is durable when `--keep-inputs` says so.
///
/// It only ever deletes what Quern itself put there, never following a
/// symlink: in `done/` and `failed/`, claim folders (named by claim id, real
/// directories); in the outbox and its task folders, regular files named
/// `*.json` that begin as a Quern result does, with their transcript
/// sidecars (`talk.wav.json`'s `talk.wav.srt`, `.vtt`, `.txt`: deleted right
/// after their result, counted in its bytes). Hidden files (the outbox's
/// `.quern-<id>.tmp` results being written) and anything else are left alone.
/// A result is visible only after it was fsynced and renamed into place, so
/// every result it can see is already durable.
final class RetentionSweeper: Sendable {
    struct Tally: Sendable, Equatable {
        var deleted = 0
        var deletedBytes = 0
        var kept = 0
        var keptBytes = 0
    }

    struct Report: Sendable, Equatable {
        var inputs = Tally()
        var results = Tally()
        var failures = 0
    }

    /// What a Quern result's first bytes are (`JSONWriter`'s pretty style).
    static let resultPrefix = Array("{\n  \"schema_version\": ".utf8)

    let layout: DaemonLayout
    let policy: RetentionPolicy
    private let logger: Logger
    private let wake = DispatchSemaphore(value: 0)
    private let stopping = Atomic<Bool>(false)
    private let finished = DispatchSemaphore(value: 0)
    private let running = Atomic<Bool>(false)

    init(layout: DaemonLayout, policy: RetentionPolicy, logger: Logger) {
        self.layout = layout
        self.policy = policy
        self.logger = logger
    }

    // MARK: The thread

    /// Sweeps now, then every interval until `stop()`. Nothing when the policy keeps everything.
    func start() {
        guard policy.isActive else {
            logger.info("retention: inputs and results are kept forever (see --keep-inputs, --keep-results-days)")
            return
        }
        running.store(true, ordering: .releasing)
        let thread = Thread { [self] in
            while !stopping.load(ordering: .acquiring) {
                sweepAndLog()
                _ = wake.wait(timeout: .now() + .milliseconds(Int(policy.sweepInterval * 1000)))
            }
            finished.signal()
        }
        thread.name = "quern-retention"
        thread.start()
    }

    /// Stops the thread, waiting for a sweep in progress to finish its current deletion.
    func stop() {
        guard running.load(ordering: .acquiring) else { return }
        stopping.store(true, ordering: .releasing)
        wake.signal()
        finished.wait()
    }

    // MARK: Deleting

    /// Right after an input's result is durable and the input archived:
    /// deletes the archived claim folder if the policy keeps no such input.
    func inputArchived(claimID: String, succeeded: Bool) {
        guard policy.discardsAtOnce(succeeded: succeeded) else { return }
        guard let archive = DirectoryHandle(succeeded ? layout.done : layout.failed) else { return }
        do {
            let bytes = try archive.removeTree(Array(claimID.utf8))
            logger.debug("deleted an archived input (--keep-inputs)", metadata: ["claim": "\(claimID)", "bytes": "\(bytes)"])
        } catch {
            logger.warning("cannot delete an archived input", metadata: ["claim": "\(claimID)", "error": "\(error)"])
        }
    }

    func sweepAndLog() {
        let started = DispatchTime.now()
        let report = sweep()
        var metadata: Logger.Metadata = [
            "inputs_deleted": "\(report.inputs.deleted)", "inputs_deleted_bytes": "\(report.inputs.deletedBytes)",
            "inputs_kept": "\(report.inputs.kept)", "inputs_kept_bytes": "\(report.inputs.keptBytes)",
            "results_deleted": "\(report.results.deleted)", "results_deleted_bytes": "\(report.results.deletedBytes)",
            "results_kept": "\(report.results.kept)", "results_kept_bytes": "\(report.results.keptBytes)",
            "duration_ms": "\(String(format: "%.1f", Double(DispatchTime.now().uptimeNanoseconds - started.uptimeNanoseconds) / 1e6))",
        ]
        if report.failures > 0 { metadata["failures"] = "\(report.failures)" }
        logger.info("retention sweep", metadata: metadata)
    }

    /// One pass over the archive and the outbox.
    func sweep(now: Double = Date().timeIntervalSince1970) -> Report {
        var report = Report()
        if policy.limitsInputs { sweepInputs(now: now, report: &report) }
        if policy.limitsResults { sweepResults(now: now, report: &report) }
        return report
    }

    private struct Entry {
        var directory: DirectoryHandle
        var name: [UInt8]
        var modified: Double
        var bytes: Int
        /// Deleted after `name`: a result's sidecar files.
        var companions: [[UInt8]] = []
    }

    private func sweepInputs(now: Double, report: inout Report) {
        var entries: [Entry] = []
        var discard: [Entry] = []
        let done = DirectoryHandle(layout.done)
        let failed = DirectoryHandle(layout.failed)
        // --done and --failed may name one folder: then nothing in it says
        // which result an input had, and --keep-inputs failed deletes nothing
        // by listing (the writer still deletes each ok input as it is archived).
        let shared = done != nil && done?.identity.map { [$0.device, $0.inode] } == failed?.identity.map { [$0.device, $0.inode] }
        let archives: [(DirectoryHandle?, Bool?)] = shared ? [(done, nil)] : [(done, true), (failed, false)]
        for (handle, succeeded) in archives {
            guard let archive = handle else { continue }
            let discardsAll = succeeded.map(policy.discardsAtOnce(succeeded:)) ?? (policy.keepInputs == .never)
            try? archive.forEachEntry { name in
                guard Self.isArchivedClaim(name), let status = try? archive.status(name), status.type == .directory else { return true }
                // A claim folder's mtime is when it was archived: its markers are removed right after the move.
                let entry = Entry(directory: archive, name: name, modified: Double(status.modifiedNanoseconds) / 1e9, bytes: archive.treeSize(name))
                if discardsAll { discard.append(entry) } else { entries.append(entry) }
                return true
            }
        }
        report.inputs = apply(discard: discard, entries, maxAge: policy.inputsMaxAge, maxBytes: policy.inputsMaxBytes, now: now,
                              failures: &report.failures)
    }

    private func sweepResults(now: Double, report: inout Report) {
        guard let outbox = DirectoryHandle(layout.outbox) else { return }
        var folders = [outbox]
        for task in FolderRoute.routedTasks {
            if let folder = outbox.subdirectory(Array(task.rawValue.utf8)) { folders.append(folder) }
        }
        var entries: [Entry] = []
        for folder in folders {
            try? folder.forEachEntry { name in
                guard Self.isResultName(name), let status = try? folder.status(name), status.type == .regular,
                      folder.readPrefix(name, count: Self.resultPrefix.count) == Self.resultPrefix else { return true }
                var entry = Entry(directory: folder, name: name, modified: Double(status.modifiedNanoseconds) / 1e9, bytes: status.size)
                for format in SubtitleFormat.allCases {
                    let sidecar = ResultNames.sidecar(ofResult: name, format: format)
                    guard let sidecarStatus = try? folder.status(sidecar), sidecarStatus.type == .regular else { continue }
                    entry.companions.append(sidecar)
                    entry.bytes += sidecarStatus.size
                }
                entries.append(entry)
                return true
            }
        }
        report.results = apply(discard: [], entries, maxAge: policy.resultsMaxAge, maxBytes: policy.resultsMaxBytes, now: now,
                               failures: &report.failures)
    }

    /// Deletes `discard`, then the entries older than `maxAge`, then the
    /// oldest until the rest fit `maxBytes`.
    private func apply(discard: [Entry], _ entries: [Entry], maxAge: Double?, maxBytes: Int?, now: Double, failures: inout Int) -> Tally {
        var tally = Tally()
        var doomed = discard
        var kept: [Entry] = []
        for entry in entries {
            if let maxAge, now - entry.modified > maxAge { doomed.append(entry) } else { kept.append(entry) }
        }
        if let maxBytes {
            kept.sort { $0.modified < $1.modified }
            var total = kept.reduce(0) { $0 + $1.bytes }
            var oldest = 0
            while total > maxBytes, oldest < kept.count {
                total -= kept[oldest].bytes
                doomed.append(kept[oldest])
                oldest += 1
            }
            kept.removeFirst(oldest)
        }
        for entry in doomed {
            do {
                try entry.directory.removeTree(entry.name)
                // The result first: it never exists without its sidecars.
                for companion in entry.companions { try entry.directory.removeTree(companion) }
                tally.deleted += 1
                tally.deletedBytes += entry.bytes
            } catch {
                failures += 1
                logger.warning("retention: cannot delete", metadata: ["entry": "\(ResultNames.display(Paths.join(entry.directory.path, entry.name)))", "error": "\(error)"])
            }
        }
        tally.kept = kept.count
        tally.keptBytes = kept.reduce(0) { $0 + $1.bytes }
        return tally
    }

    /// `<claim id>` or `<claim id>.<n>` (the archive's name when one existed).
    static func isArchivedClaim(_ name: [UInt8]) -> Bool {
        if ClaimIDGenerator.isClaimID(name) { return true }
        guard let dot = name.lastIndex(of: UInt8(ascii: ".")), dot > 0, dot < name.count - 1 else { return false }
        return ClaimIDGenerator.isClaimID(Array(name[..<dot])) && name[(dot + 1)...].allSatisfy { (0x30...0x39).contains($0) }
    }

    /// What `ResultNames` makes: not hidden, ending in `.json`.
    static func isResultName(_ name: [UInt8]) -> Bool {
        name.first != UInt8(ascii: ".") && name.count > 5 && name.suffix(5).elementsEqual(".json".utf8)
    }
}
