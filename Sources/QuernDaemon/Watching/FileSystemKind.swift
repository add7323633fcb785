import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Finds the file system type of a directory from /proc/self/mounts, to tell
/// whether inotify can be trusted: on network file systems it only sees
/// changes made by this machine, never those made by other clients.
enum FileSystemKind {
    static let networkTypes: Set<String> = [
        "nfs", "nfs4", "cifs", "smb3", "smbfs", "9p", "ceph", "glusterfs", "fuse.sshfs", "fuse.glusterfs", "afs", "lustre", "gpfs",
    ]

    static func type(of directory: [UInt8]) -> String? {
        guard let resolved = realpath(Paths.c(directory), nil) else { return nil }
        let path = String(cString: resolved)
        free(resolved)
        guard let mounts = try? FileOps.readFile(Array("/proc/self/mounts".utf8), limit: 16 << 20),
              case let .bytes(bytes) = mounts else { return nil }
        var best: (mountPoint: String, type: String)?
        for line in String(decoding: bytes, as: UTF8.self).split(separator: "\n") {
            let fields = line.split(separator: " ")
            guard fields.count >= 3 else { continue }
            // Spaces in mount points are written as \040.
            let mountPoint = fields[1].replacingOccurrences(of: "\\040", with: " ")
            let covers = path == mountPoint || mountPoint == "/" || path.hasPrefix(mountPoint + "/")
            if covers, mountPoint.count >= (best?.mountPoint.count ?? -1) { best = (mountPoint, String(fields[2])) }
        }
        return best?.type
    }

    static func isNetwork(_ directory: [UInt8]) -> Bool {
        type(of: directory).map(networkTypes.contains) ?? false
    }
}
