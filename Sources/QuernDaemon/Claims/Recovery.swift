import Logging
import QuernPipelines

/// What start-up found in the work area, and what to do with each claim.
enum RecoveredClaim: Sendable {
    /// The result never became durable: process the input again.
    case rerun(Claim)
    /// Quern died this many times while processing the input: write an error
    /// result instead of dying again (a file that crashes a decoder must not
    /// keep the daemon in a restart loop).
    case abandon(Claim, attempts: Int)
}

/// Brings every claim left in the work area by a crash or a shutdown to a
/// state the normal flow can finish. Runs before the watcher starts, alone.
struct Recovery {
    let layout: DaemonLayout
    let publisher: ResultPublisher
    let maxAttempts: Int
    let logger: Logger

    /// Finishes claims whose result is already durable and returns the ones
    /// to process again.
    func run() throws(SystemError) -> [RecoveredClaim] {
        var claimDirectories: [[UInt8]] = []
        try FileOps.forEachEntry(layout.work) { entry in
            if ClaimIDGenerator.isClaimID(entry) { claimDirectories.append(entry) } else {
                logger.warning("ignoring an unexpected entry in the work area", metadata: ["entry": "\(ResultNames.display(entry))"])
            }
            return true
        }
        var pending: [RecoveredClaim] = []
        for directoryName in claimDirectories.sorted(by: { $0.lexicographicallyPrecedes($1) }) {
            if let recovered = try recover(id: String(decoding: directoryName, as: UTF8.self)) { pending.append(recovered) }
        }
        try removeOrphanedTemporaries()
        if !pending.isEmpty { logger.notice("recovering claimed inputs", metadata: ["count": "\(pending.count)"]) }
        return pending
    }

    private func recover(id: String) throws(SystemError) -> RecoveredClaim? {
        let directory = Paths.join(layout.work, id)
        var inputs: [[UInt8]] = []
        var markers: [String] = []
        try FileOps.forEachEntry(directory) { entry in
            if entry.first == UInt8(ascii: ".") { markers.append(String(decoding: entry, as: UTF8.self)) } else { inputs.append(entry) }
            return true
        }
        let temporary = layout.temporaryResult(for: id)
        guard inputs.count == 1, let name = inputs.first else {
            if inputs.isEmpty {
                // Died between creating the claim directory and moving the
                // input in, or after archiving began: nothing to finish.
                for marker in markers { try FileOps.removeFile(Paths.join(directory, marker)) }
                try FileOps.removeFile(temporary)
                publisher.removeTemporarySidecars(of: id)
                try FileOps.removeDirectory(directory)
            } else {
                logger.error("a claim directory holds several inputs; leaving it alone", metadata: ["claim": "\(id)"])
            }
            return nil
        }
        let folder = markers.lazy.compactMap(Claim.folder(fromMarker:)).first
        let claim = Claim(id: id, name: name, directory: directory, folder: folder)
        let written = markers.first { $0.hasPrefix(".written-") }
        if let written {
            let succeeded = written == Claim.writtenMarker(succeeded: true)
            if FileOps.exists(temporary) {
                let resultName = try publisher.commit(claim)
                logger.info("published a result written before a restart", metadata: ["claim": "\(id)", "result": "\(ResultNames.display(resultName))"])
            }
            try publisher.archive(claim, succeeded: succeeded)
            return nil
        }
        try FileOps.removeFile(temporary)
        publisher.removeTemporarySidecars(of: id)
        let wasRunning = markers.contains(Claim.runningMarker)
        if wasRunning { try FileOps.removeFile(claim.marker(Claim.runningMarker)) }
        if markers.contains(Claim.handedBackMarker) {
            try FileOps.removeFile(claim.marker(Claim.handedBackMarker))
            return .rerun(claim)
        }
        // Only an input that was being worked on when the process died can have
        // killed it; one that waited in a queue (or whose result could not be
        // written) is run again without a charge.
        guard wasRunning else { return .rerun(claim) }
        let attempts = markers.filter { $0.hasPrefix(Claim.attemptPrefix) }.count + 1
        logger.notice("an input was being worked on when the process died; charged an attempt", metadata: [
            "claim": "\(id)", "name": "\(ResultNames.display(name))", "attempt": "\(attempts)", "max_attempts": "\(maxAttempts)",
        ])
        if attempts >= maxAttempts { return .abandon(claim, attempts: attempts) }
        try FileOps.touch(claim.marker(Claim.attemptPrefix + String(attempts)))
        return .rerun(claim)
    }

    /// Temp results whose claim no longer exists (it was archived, or its
    /// directory removed by hand) are leftovers; a consumer never sees them
    /// (they start with a dot) but they should not pile up. (A sidecar's
    /// `.quern-<id>.srt.tmp` reads as claim `<id>.srt`, which never exists.)
    private func removeOrphanedTemporaries() throws(SystemError) {
        var orphans: [[UInt8]] = []
        try FileOps.forEachEntry(layout.outbox) { entry in
            let text = String(decoding: entry, as: UTF8.self)
            guard text.hasPrefix(".quern-"), text.hasSuffix(".tmp") else { return true }
            let id = String(text.dropFirst(7).dropLast(4))
            if !FileOps.exists(Paths.join(layout.work, id)) { orphans.append(entry) }
            return true
        }
        for orphan in orphans { try FileOps.removeFile(Paths.join(layout.outbox, orphan)) }
    }
}
