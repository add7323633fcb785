import Foundation

/// A folder of `<label>/<files>`: each folder directly inside names a class
/// and every file under it, at any depth, is an example of that class —
/// sub-folders are walked because people sort their examples into them
/// (`cat/indoor/`, `cat/2024/`), and the label is still the top folder's.
///
/// Hidden files and folders (a leading ".") are passed over silently (they
/// are the tools' — `.DS_Store`, `.git` —, not examples); `.part` and `.tmp`
/// files are skipped and listed (an unfinished download or copy); a file
/// directly in the dataset folder belongs to no class and is listed as
/// skipped. Symbolic links are followed, each folder walked once (a link
/// back to a parent cannot loop). Names are walked in byte order, so the
/// examples' order does not depend on the file system.
enum FolderListing {
    static func list(_ root: String) throws(DatasetError) -> RawListing {
        var listing = RawListing()
        let entries = try names(in: root, isRoot: true)
        var visited: Set<FileIdentity> = []
        if let identity = FileIdentity(root) { visited.insert(identity) }
        for name in entries {
            let path = root + "/" + name
            switch EntryKind(path) {
            case .directory:
                walk(path, label: name, into: &listing, visited: &visited)
            case .file, .other:
                listing.skipped.append(SkippedExample(origin: path, reason: .outsideLabelFolder,
                                                      detail: "a file directly in the dataset folder; move it into a <label>/ folder"))
            case .missing:
                listing.skipped.append(SkippedExample(origin: path, reason: .unreadable, detail: "a broken symbolic link"))
            }
        }
        return listing
    }

    private static func walk(_ folder: String, label: String, into listing: inout RawListing, visited: inout Set<FileIdentity>) {
        guard let identity = FileIdentity(folder), visited.insert(identity).inserted else { return }
        let entries: [String]
        do { entries = try names(in: folder, isRoot: false) } catch {
            listing.skipped.append(SkippedExample(origin: folder, reason: .unreadable, detail: error.message))
            return
        }
        for name in entries {
            let path = folder + "/" + name
            let lowered = name.lowercased()
            switch EntryKind(path) {
            case .directory:
                walk(path, label: label, into: &listing, visited: &visited)
            case .file where lowered.hasSuffix(".part") || lowered.hasSuffix(".tmp"):
                listing.skipped.append(SkippedExample(origin: path, reason: .temporaryFile, detail: "an unfinished download or copy (.part/.tmp)"))
            case .file:
                listing.examples.append(RawExample(input: .file(path), origin: path, target: .label(label)))
            case .other:
                listing.skipped.append(SkippedExample(origin: path, reason: .unreadable, detail: "not a regular file (a FIFO, socket or device)"))
            case .missing:
                listing.skipped.append(SkippedExample(origin: path, reason: .unreadable, detail: "a broken symbolic link"))
            }
        }
    }

    /// The visible names in a folder, in byte order.
    private static func names(in folder: String, isRoot: Bool) throws(DatasetError) -> [String] {
        do {
            return try FileManager.default.contentsOfDirectory(atPath: folder)
                .filter { !$0.hasPrefix(".") }
                .sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        } catch {
            throw DatasetError(.unreadable, path: folder, "cannot list \(isRoot ? "the dataset folder " : "")\(folder): \(error.localizedDescription)")
        }
    }
}

/// What a path is, links followed.
enum EntryKind {
    case directory, file, other, missing

    init(_ path: String) {
        var info = stat()
        guard stat(path, &info) == 0 else { self = .missing; return }
        switch info.st_mode & S_IFMT {
        case S_IFDIR: self = .directory
        case S_IFREG: self = .file
        default: self = .other
        }
    }
}

/// A file's device and inode: the same folder reached twice through links.
struct FileIdentity: Hashable {
    var device: UInt64
    var inode: UInt64

    init?(_ path: String) {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        device = UInt64(info.st_dev)
        inode = UInt64(info.st_ino)
    }
}
