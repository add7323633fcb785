import Crypto
import Foundation

/// SHA-256 of a weights file, for the result's `weights_sha256`.
enum FileChecksum {
    static func sha256(of path: String) throws(QuernError) -> String {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw QuernError(.internalError, "cannot read \(path) to checksum it")
        }
        defer { try? handle.close() }
        var hasher = SHA256()
        while true {
            // A read that fails half-way must not pass for the checksum of the whole file.
            let chunk: Data?
            do { chunk = try handle.read(upToCount: 1 << 22) } catch {
                throw QuernError(.internalError, "cannot read \(path) to checksum it: \(error.localizedDescription)")
            }
            guard let chunk, !chunk.isEmpty else { break }
            hasher.update(data: chunk)
        }
        return SHA256Hex.finalize(hasher)
    }
}
