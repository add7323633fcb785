import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Installs a folder of small files so that a reader sees the old folder or
/// the complete new one: the files are written and fsynced in a hidden
/// temporary folder beside the target (`.<name>.tmp-<pid>-<random>`), which
/// is then renamed into place.
///
/// `rename(2)` cannot replace a folder that has files in it, and Linux's
/// atomic exchange (`renameat2`) is not reachable from Swift's Glibc, so an
/// existing folder is first renamed aside (`.<name>.old-…`), the new one
/// renamed in, and the old one removed: a reader listing the parent in the
/// instant between the two renames sees no folder of that name (a scan a
/// moment later sees the new one). A failure between them puts the old
/// folder back. Hidden leftovers of a writer that died are removed by the
/// next install of the same name.
public enum AtomicFolder {
    public static func install(_ files: [(name: String, bytes: [UInt8])], as folder: String) throws(FormatError) {
        let (parent, name) = AtomicFile.split(folder)
        guard !name.isEmpty, name != ".", name != ".." else {
            throw FormatError(.invalidValue, file: folder, "cannot install a folder under this name")
        }
        do {
            try FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true)
        } catch {
            throw FormatError(.io, file: parent, "cannot create the folder: \(error.localizedDescription)")
        }
        removeLeftovers(of: name, in: parent)

        let temporary = parent + "/" + AtomicFile.temporaryName(for: name)
        guard mkdir(temporary, 0o755) == 0 else { throw FormatError(.io, file: temporary, "cannot create the folder: \(reason())") }
        do throws(FormatError) {
            for file in files { try AtomicFile.writeDurably(file.bytes, to: temporary + "/" + file.name) }
            try AtomicFile.syncDirectory(temporary)
            try replace(folder, with: temporary, parent: parent, name: name)
        } catch {
            try? FileManager.default.removeItem(atPath: temporary)
            throw error
        }
    }

    private static func replace(_ folder: String, with temporary: String, parent: String, name: String) throws(FormatError) {
        if rename(temporary, folder) == 0 {
            try AtomicFile.syncDirectory(parent)
            return
        }
        guard errno == ENOTEMPTY || errno == EEXIST || errno == ENOTDIR || errno == EISDIR else {
            throw FormatError(.io, file: folder, "cannot rename the written folder into place: \(reason())")
        }
        let aside = parent + "/." + name + ".old-\(getpid())-\(UInt64.random(in: 0...UInt64.max) & 0xFFFF_FFFF_FFFF)"
        guard rename(folder, aside) == 0 else { throw FormatError(.io, file: folder, "cannot move the old folder aside: \(reason())") }
        guard rename(temporary, folder) == 0 else {
            let why = reason()
            rename(aside, folder)
            throw FormatError(.io, file: folder, "cannot rename the written folder into place: \(why)")
        }
        try AtomicFile.syncDirectory(parent)
        try? FileManager.default.removeItem(atPath: aside)
    }

    /// Hidden folders `.<name>.tmp-<pid>-…` and `.<name>.old-<pid>-…` whose
    /// process is gone.
    private static func removeLeftovers(of name: String, in parent: String) {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: parent) else { return }
        for entry in entries {
            for marker in [".\(name).tmp-", ".\(name).old-"] where entry.hasPrefix(marker) {
                let pid = entry.dropFirst(marker.count).prefix { $0 != "-" }
                guard let process = Int32(pid), process > 0 else { continue }
                if kill(process, 0) == 0 || errno == EPERM { continue }  // its writer is still running
                try? FileManager.default.removeItem(atPath: parent + "/" + entry)
            }
        }
    }

    private static func reason() -> String { String(cString: strerror(errno)) }
}
