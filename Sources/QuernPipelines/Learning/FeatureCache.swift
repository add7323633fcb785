#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Synchronization

/// Features computed before, on disk, so retraining with other
/// hyper-parameters does not run the models again. Keyed by the input's
/// SHA-256, under the feature model's weights SHA-256 and a variant (how
/// the features were taken: "windows" or "truncate" for long texts, the
/// image preprocessing, the audio path):
///
///     <directory>/<model sha256>/<variant>.features
///
/// One append-only file per model and variant (`FeatureCacheRecords`), read
/// whole at start — 20,000 vectors load in one pass, where one file per
/// entry would cost 20,000 opens. Safe to delete at any time (a writer
/// holding the old file writes into an unlinked inode; the next run starts
/// afresh). Safe against a crash mid-write: a torn last record fails its
/// length or checksum and is cut off under the lock by the next reader or
/// writer. Every append and every repair holds `flock(LOCK_EX)`, so two
/// trainers never interleave records and never cut each other's. Nothing
/// in a cache can crash a run: an unusable file or folder turns the cache
/// off with a note, and an entry that does not verify is recomputed.
public final class FeatureCache: Sendable {
    public struct Statistics: Sendable, Equatable {
        /// Lookups answered from the cache, and those that were not.
        public var hits = 0
        public var misses = 0
        /// Entries read from the file at start, and appended since.
        public var loaded = 0
        public var stored = 0
        /// Bytes of torn or corrupt records cut from the file.
        public var droppedBytes = 0
    }

    private struct State {
        var handle: FileHandle?
        var entries: [[UInt8]: [Float]] = [:]
        /// Where the verified records end: the next append goes here.
        var validEnd = 0
        var statistics = Statistics()
        var notes: [String] = []
    }

    /// The file, or nil when caching is off (see `notes`).
    public let path: String?
    public let width: Int
    private let state: Mutex<State>

    /// `$QUERN_CACHE_DIR/features`, else `$XDG_CACHE_HOME/quern/features`,
    /// else `~/.cache/quern/features`.
    public static func defaultDirectory(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        if let root = environment["QUERN_CACHE_DIR"], !root.isEmpty { return root + "/features" }
        if let xdg = environment["XDG_CACHE_HOME"], xdg.hasPrefix("/") { return xdg + "/quern/features" }
        let home = environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory()
        return home + "/.cache/quern/features"
    }

    /// Opens (creating it if needed) the cache of `modelSHA256`'s features
    /// taken as `variant`, `width` values each, and loads what it holds.
    public init(directory: String = FeatureCache.defaultDirectory(), modelSHA256: String, variant: String, width: Int) {
        self.width = width
        var state = State()
        guard FeatureCacheRecords.key(hex: modelSHA256) != nil, (1...FeatureCacheRecords.maximumWidth).contains(width) else {
            state.notes.append("feature cache off: the model has no SHA-256 to key it by")
            path = nil
            self.state = Mutex(state)
            return
        }
        let folder = directory + "/" + modelSHA256.lowercased()
        let file = folder + "/" + Self.fileName(variant: variant)
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            state.handle = try Self.open(file)
        } catch {
            state.notes.append("feature cache off: cannot use \(file): \(error.localizedDescription)")
        }
        path = state.handle == nil ? nil : file
        self.state = Mutex(state)
        withLockedFile { state, handle in try Self.catchUp(&state, handle: handle, width: width) }
    }

    /// The cached vector for an input, counted as a hit or a miss.
    public func vector(for inputSHA256: String) -> [Float]? {
        state.withLock { state in
            let found = FeatureCacheRecords.key(hex: inputSHA256).flatMap { state.entries[$0] }
            if found == nil { state.statistics.misses += 1 } else { state.statistics.hits += 1 }
            return found
        }
    }

    /// Appends vectors (one write, under the file lock). Vectors of another
    /// width or with a non-finite value, and keys that are not SHA-256s,
    /// are not stored.
    public func store(_ items: [(inputSHA256: String, vector: [Float])]) {
        var records: [UInt8] = []
        var accepted: [([UInt8], [Float])] = []
        for (sha, vector) in items {
            guard let key = FeatureCacheRecords.key(hex: sha), vector.count == width, vector.allSatisfy(\.isFinite) else { continue }
            records += FeatureCacheRecords.encode(key: key, vector: vector)
            accepted.append((key, vector))
        }
        guard !accepted.isEmpty else { return }
        withLockedFile { state, handle in
            try Self.catchUp(&state, handle: handle, width: width)
            try handle.seek(toOffset: UInt64(state.validEnd))
            try handle.write(contentsOf: Data(records))
            state.validEnd += records.count
            for (key, vector) in accepted { state.entries[key] = vector }
            state.statistics.stored += accepted.count
        }
    }

    public var statistics: Statistics { state.withLock { $0.statistics } }
    /// What went wrong with the cache, if anything (it was turned off, a
    /// damaged tail was cut).
    public var notes: [String] { state.withLock { $0.notes } }
    /// Entries available.
    public var count: Int { state.withLock { $0.entries.count } }

    // MARK: The file

    /// `<variant>.features`, the variant reduced to characters safe in a name.
    static func fileName(variant: String) -> String {
        let safe = variant.unicodeScalars.map { scalar -> String in
            let allowed = ("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar) || ("0"..."9").contains(scalar) || "._-".unicodeScalars.contains(scalar)
            return allowed ? String(scalar) : "_"
        }.joined()
        return (safe.isEmpty || safe.hasPrefix(".") ? "v" + safe : safe) + ".features"
    }

    /// Opens the file for reading and appending; never follows a link
    /// planted in its place (a repair truncates the file) and refuses
    /// anything but a regular file.
    private static func open(_ file: String) throws -> FileHandle {
        let descriptor = Glibc.open(file, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, 0o644)
        guard descriptor >= 0 else { throw CacheFileError(String(cString: strerror(errno))) }
        var info = stat()
        guard fstat(descriptor, &info) == 0, info.st_mode & S_IFMT == S_IFREG else {
            close(descriptor)
            throw CacheFileError("not a regular file")
        }
        return FileHandle(fileDescriptor: descriptor, closeOnDealloc: true)
    }

    /// Runs `body` with the file locked exclusively; an I/O error turns the
    /// cache off (the entries in memory stay usable).
    private func withLockedFile(_ body: (inout State, FileHandle) throws -> Void) {
        state.withLock { state in
            guard let handle = state.handle else { return }
            let descriptor = handle.fileDescriptor
            while flock(descriptor, LOCK_EX) != 0 {
                guard errno == EINTR else {
                    state.notes.append("feature cache off: cannot lock \(path ?? ""): \(String(cString: strerror(errno)))")
                    state.handle = nil
                    return
                }
            }
            defer { flock(descriptor, LOCK_UN) }
            do { try body(&state, handle) } catch {
                state.notes.append("feature cache off: \(path ?? ""): \(error)")
                state.handle = nil
            }
        }
    }

    /// Brings memory up to date with the file: writes the header of a new
    /// file, reads records appended since (by this process or another),
    /// and cuts a tail that does not verify. A file whose header is not
    /// ours, or that shrank under us, is read again from the start.
    private static func catchUp(_ state: inout State, handle: FileHandle, width: Int) throws {
        let size = Int(try handle.seekToEnd())
        let headerSize = FeatureCacheRecords.headerSize
        if state.validEnd == 0 || size < state.validEnd {
            state.entries.removeAll()
            try handle.seek(toOffset: 0)
            let header = [UInt8](try handle.read(upToCount: headerSize) ?? Data())
            guard FeatureCacheRecords.width(ofHeader: header) == width else {
                if size > 0 {
                    state.statistics.droppedBytes += size
                    state.notes.append("feature cache: \(size) bytes that are not a cache of \(width)-wide vectors were discarded")
                }
                try handle.truncate(atOffset: 0)
                try handle.write(contentsOf: Data(FeatureCacheRecords.header(width: width)))
                state.validEnd = headerSize
                return
            }
            state.validEnd = headerSize
        }
        let recordSize = FeatureCacheRecords.recordSize(width: width)
        let chunkRecords = max(1, (4 << 20) / recordSize)
        try handle.seek(toOffset: UInt64(state.validEnd))
        while true {
            let chunk = [UInt8](try handle.read(upToCount: chunkRecords * recordSize) ?? Data())
            if chunk.isEmpty { break }
            let (entries, validBytes) = FeatureCacheRecords.decode(chunk, width: width)
            for (key, vector) in entries { state.entries[key] = vector }
            state.statistics.loaded += entries.count
            state.validEnd += validBytes
            if validBytes < chunk.count { break }
        }
        let end = Int(try handle.seekToEnd())
        if end > state.validEnd {
            state.statistics.droppedBytes += end - state.validEnd
            state.notes.append("feature cache: cut \(end - state.validEnd) bytes of a torn or damaged record at byte \(state.validEnd)")
            try handle.truncate(atOffset: UInt64(state.validEnd))
        }
    }
}

/// Why the cache file cannot be used.
struct CacheFileError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
