import QuernPipelines
import Synchronization

/// Makes a result durable and visible exactly once, then archives its input.
///
/// The steps, and what recovery concludes if the process dies after each:
/// 1. write `outbox/.quern-<id>.tmp`, fsync it      → no marker: run the input again
/// 2. create `.written-<status>` in the claim dir, fsync the dir
///                                                  → marker + temp file: publish the temp file
/// 3. rename the temp file to its result name       → marker, no temp file: already published
/// 4. fsync the outbox directory
/// 5. rename `work/<id>` to `done/<id>` or `failed/<id>` → nothing left to do
///
/// Step 3 is the single instant a result appears, and the marker made
/// durable in step 2 is what tells the two sides of that instant apart.
///
/// Sidecar files (a transcript's `name.srt`, `name.vtt`, `name.txt`) go
/// with the result: written and synced as `outbox/.quern-<id>.<ext>.tmp`
/// in step 1, before the result's temp file, and renamed to their names in
/// step 3 just before the result — so a result never exists without its
/// sidecars. Without the marker recovery deletes them with the temp result.
final class ResultPublisher: Sendable {
    let layout: DaemonLayout
    /// Choosing a free result name and renaming onto it must not interleave
    /// between two writer threads publishing inputs with the same name.
    private let naming = Mutex<Void>(())

    init(layout: DaemonLayout) { self.layout = layout }

    /// Returns the result's file name in the outbox (nil when an earlier,
    /// failed call already published it and only the archive move was left).
    /// Safe to call again after it threw (a full or read-only outbox): it
    /// resumes from the step that failed, so a retry never publishes twice.
    func publish(_ claim: Claim, result: [UInt8], sidecars: [(format: SubtitleFormat, bytes: [UInt8])] = [],
                 succeeded: Bool) throws(SystemError) -> [UInt8]? {
        let temporary = layout.temporaryResult(for: claim.id)
        let marker = claim.marker(Claim.writtenMarker(succeeded: succeeded))
        if !FileOps.exists(marker) {
            do {
                for sidecar in sidecars {
                    try FileOps.writeDurably(layout.temporarySidecar(for: claim.id, format: sidecar.format), sidecar.bytes)
                }
                try FileOps.writeDurably(temporary, result)
            } catch {
                // A half-written temp file (disk full) is worth nothing: no litter.
                try? FileOps.removeFile(temporary)
                removeTemporarySidecars(of: claim.id)
                throw error
            }
            try FileOps.touch(marker)
            try FileOps.syncDirectory(claim.directory)
        }
        // Marker and no temp file: an earlier call renamed it into place.
        let name = FileOps.exists(temporary) ? try commit(claim) : nil
        try archive(claim, succeeded: succeeded)
        return name
    }

    /// Removes a claim's sidecar temp files (no marker: the input runs again).
    func removeTemporarySidecars(of claimID: String) {
        for format in SubtitleFormat.allCases { try? FileOps.removeFile(layout.temporarySidecar(for: claimID, format: format)) }
    }

    /// Steps 3–4: renames the synced temp file to the first free result name,
    /// in `outbox/<task>/` for an input from a task folder, its sidecars first
    /// (a name is free when the result and every sidecar name are). Returns
    /// the result's path relative to the outbox.
    func commit(_ claim: Claim) throws(SystemError) -> [UInt8] {
        let temporary = layout.temporaryResult(for: claim.id)
        let directory = claim.folder.map { TaskFolders.path($0, in: layout.outbox) } ?? layout.outbox
        if claim.folder != nil, !FileOps.exists(directory) {
            // Made at start-up; someone removed it since.
            try FileOps.makeDirectory(directory)
            try FileOps.syncDirectory(layout.outbox)
        }
        let sidecars = layout.temporarySidecars(for: claim.id)
        let name = try naming.withLock { _ throws(SystemError) -> [UInt8] in
            var index = 0
            while true {
                let candidate = ResultNames.candidate(for: claim.name, index: index)
                let sidecarNames = sidecars.map { Paths.join(directory, ResultNames.sidecar(ofResult: candidate, format: $0.format)) }
                if !FileOps.exists(Paths.join(directory, candidate)), !sidecarNames.contains(where: FileOps.exists) {
                    for (sidecar, sidecarName) in zip(sidecars, sidecarNames) {
                        guard try FileOps.rename(sidecar.path, sidecarName) else {
                            throw SystemError("rename", sidecar.path, code: 2 /* ENOENT */)
                        }
                    }
                    guard try FileOps.rename(temporary, Paths.join(directory, candidate)) else {
                        throw SystemError("rename", temporary, code: 2 /* ENOENT */)
                    }
                    return candidate
                }
                index += 1
            }
        }
        try FileOps.syncDirectory(directory)
        return Claim.relative(name, in: claim.folder)
    }

    /// Step 5: moves the whole claim directory into the archive. Not synced:
    /// if the move is lost, recovery finds the marker and moves it again.
    @discardableResult
    func archive(_ claim: Claim, succeeded: Bool) throws(SystemError) -> [UInt8]? {
        let archive = succeeded ? layout.done : layout.failed
        var destination = Paths.join(archive, claim.id)
        var suffix = 1
        while FileOps.exists(destination) {
            destination = Paths.join(archive, "\(claim.id).\(suffix)")
            suffix += 1
        }
        guard try FileOps.rename(claim.directory, destination) else { return nil }
        // The markers only matter in the work area.
        try? FileOps.forEachEntry(destination) { entry in
            if entry.first == UInt8(ascii: ".") { try? FileOps.removeFile(Paths.join(destination, entry)) }
            return true
        }
        return destination
    }
}
