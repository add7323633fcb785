import Foundation
import QuernFormats

/// One example file read and judged exactly as the daemon judges a file
/// dropped in its inbox (`InputInspector`: magic numbers, then UTF-8; the
/// same probes and limits), except that a JSON file is text here, never a
/// request.
struct ExampleFile {
    enum Verdict: Equatable {
        /// UTF-8 text (byte-order mark removed), not blank.
        case text(String)
        /// A PNG or JPEG (`.image`) or audio (`.audio`) file whose structure and
        /// size passed the daemon's probes; it is decoded with its features.
        case media(InputKind)
        case skipped(SkippedExample.Reason, String)
    }

    let inspector: InputInspector
    let allowedFolders: TrainingDataFolders?

    init(limits: InputLimits, allowedFolders: TrainingDataFolders? = nil) {
        inspector = InputInspector(limits: limits, textTask: .embed)
        self.allowedFolders = allowedFolders
    }

    /// The file's bytes, or why they cannot be had.
    func read(_ path: String) -> Result<[UInt8], SkippedExample> {
        if let allowedFolders, !(TrainingDataFolders.realPath(path).map(allowedFolders.contains) ?? false) {
            return .failure(SkippedExample(origin: path, reason: .outsideAllowedFolders,
                                           detail: "outside the folders allowed for training data (\(allowedFolders.folders.joined(separator: ", "))); links are followed before the check"))
        }
        if let size = FileSize(path), size.bytes > inspector.limits.maxBytes {
            return .failure(SkippedExample(origin: path, reason: .tooLarge,
                                           detail: "the file is \(size.bytes) bytes, more than the limit of \(inspector.limits.maxBytes) (raise --max-bytes)"))
        }
        do throws(FormatError) {
            return .success(try RegularFile.read(path, limit: inspector.limits.maxBytes))
        } catch {
            return .failure(SkippedExample(origin: path, reason: .unreadable, detail: error.message))
        }
    }

    func judge(_ bytes: [UInt8]) -> Verdict {
        if bytes.isEmpty { return .skipped(.empty, "the file is empty (0 bytes)") }
        let inspection = inspector.inspect(name: [], bytes: bytes)
        switch (inspection.kind, inspection.outcome) {
        case (.image, .success), (.audio, .success):
            return .media(inspection.kind)
        case let (.text, .success(job)):
            guard case let .embed(inputs, _) = job.request, let text = inputs.first else {
                return .skipped(.unrecognized, "the daemon did not read it as text")
            }
            return Self.text(text)
        case (.request, _):
            // Text that happens to be a JSON request object: text here.
            guard case let .utf8(text) = TextProbe.classify(bytes) else { return .skipped(.notUTF8, "the text is not UTF-8") }
            guard text.unicodeScalars.count <= inspector.limits.maxTextCharacters else {
                return .skipped(.tooLarge, "the text is \(text.unicodeScalars.count) characters, more than the limit of \(inspector.limits.maxTextCharacters) (raise --max-text-chars)")
            }
            return Self.text(text)
        case let (kind, .failure(error)):
            return .skipped(Self.reason(for: error.code, kind: kind), error.message)
        case (.unknown, .success):
            return .skipped(.unrecognized, "the file is not a PNG or JPEG image, audio libsndfile can read, or UTF-8 text")
        }
    }

    /// Text that is not blank (a blank text has nothing to learn from).
    static func text(_ text: String) -> Verdict {
        text.allSatisfy(\.isWhitespace) ? .skipped(.emptyText, "the text is empty or only white space") : .text(text)
    }

    static func reason(for code: ErrorCode, kind: InputKind) -> SkippedExample.Reason {
        switch code {
        case .inputEmpty: return .empty
        case .inputTooLarge: return .tooLarge
        case .inputNotUTF8: return .notUTF8
        case .inputCorrupt, .unsupported: return .undecodable
        case .inputUnrecognized: return kind == .image || kind == .audio ? .undecodable : .unrecognized
        default: return .unreadable
        }
    }
}

/// A path's size, links followed; nil when it cannot be examined.
struct FileSize {
    var bytes: Int

    init?(_ path: String) {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        bytes = Int(info.st_size)
    }
}
