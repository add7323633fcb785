#if canImport(Glibc)
import Glibc
#endif
import QuernFormats
import QuernModels
import QuernTensor

/// Helpers shared by the fuzz targets.
public enum FuzzInput {
    /// The fuzzer's input as an array (what the daemon's entry points take).
    public static func bytes(_ data: UnsafePointer<UInt8>, _ size: Int) -> [UInt8] {
        Array(UnsafeBufferPointer(start: data, count: size))
    }

    /// A private directory for this process: $QUERN_FUZZ_TMPDIR, else
    /// /dev/shm (memory, no disk wear), else /tmp.
    public static let directory: String = {
        let env = getenv("QUERN_FUZZ_TMPDIR").map { String(cString: $0) }
        var base = env ?? "/dev/shm"
        if env == nil, access(base, W_OK) != 0 { base = "/tmp" }
        let path = "\(base)/quern-fuzz-\(getpid())"
        mkdir(path, 0o700)
        atexit { FuzzInput.removeAll() }
        return path
    }()

    /// Writes `bytes` to `name` in the process's directory and returns its
    /// path. The old file is unlinked first, so a mapping still open on the
    /// previous input keeps its own inode and is never truncated under it.
    public static func file(_ name: String, _ data: UnsafePointer<UInt8>, _ size: Int) -> String {
        let path = directory + "/" + name
        unlink(path)
        let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { fatalError("fuzz harness: cannot create \(path): \(String(cString: strerror(errno)))") }
        var written = 0
        while written < size {
            let count = write(descriptor, data + written, size - written)
            guard count > 0 else { fatalError("fuzz harness: cannot write \(path)") }
            written += count
        }
        close(descriptor)
        return path
    }

    /// Removes the files made by `file`, and the directory (at exit).
    static func removeAll() {
        guard let dir = opendir(directory) else { return }
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            if name != "." && name != ".." { unlink(directory + "/" + name) }
        }
        closedir(dir)
        rmdir(directory)
    }
}

/// Does with stored tensors what the model loaders do: float copies of the
/// small ones (every element type conversion), weight-matrix views of the
/// rank-2 ones. Sizes are bounded so the fuzzer is not just copying memory.
public enum TensorWalk {
    public static let maximumBytes = 1 << 20

    public static func walk(_ tensors: [StoredTensor], file: String) {
        var checksum = 0
        for stored in tensors {
            checksum &+= stored.name.utf8.count &+ stored.shape.count &+ stored.bytes.count
            guard stored.bytes.count <= maximumBytes else { continue }
            if let tensor = try? stored.floats(file: file) {
                checksum &+= tensor.shape.count
            }
            if stored.shape.count >= 2 {
                let binder = WeightBinder(file: file, tensors: [stored])
                if let matrix = try? binder.matrix(stored.name) { checksum &+= matrix.rows }
            }
        }
        blackHole(checksum)
    }
}

@inline(never)
public func blackHole<T>(_ value: T) {
    withExtendedLifetime(value) {}
}
