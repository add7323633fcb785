import Foundation

/// The speech corpus (tools/goldens/make-speech-corpus.sh) generated on
/// demand for tests: audio stays out of git, so the first test that needs it
/// runs the script into `$QUERN_SPEECH_CORPUS`, or else
/// `$TMPDIR/quern-speech-corpus/<hash of the script>/`, and later runs reuse
/// that folder for as long as the script is unchanged. Generation goes to a
/// temporary folder renamed into place, so test processes running side by
/// side never see a half-written corpus.
///
/// A support library of the test targets (QuernMediaTests' decoder tests and
/// QuernModelTests' log-mel and Whisper tests share this one copy).
public enum SpeechCorpus {
    public struct Entry: Sendable {
        public let file: String
        public let kind: String
        /// "decodes", or the media error code the decoder must give.
        public let expect: String
        /// What is spoken, for speech files.
        public let text: String?
    }

    public struct Unavailable: Error, CustomStringConvertible {
        public let description: String
    }

    public static var script: String { TestPaths.inRepository("tools/goldens/make-speech-corpus.sh") }

    /// The corpus folder, generated once per process (and once per script version on disk).
    public static func directory() throws -> String { try prepared.get() }

    /// The bytes of one corpus file.
    public static func bytes(_ file: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: URL(fileURLWithPath: try directory() + "/" + file)))
    }

    /// manifest.json's entries, in generation order.
    public static func manifest() throws -> [Entry] {
        let data = try Data(contentsOf: URL(fileURLWithPath: try directory() + "/manifest.json"))
        guard let root = try JSONSerialization.jsonObject(with: data) as? [String: Any],
              let files = root["files"] as? [[String: Any]] else {
            throw Unavailable(description: "manifest.json has no files list")
        }
        return files.compactMap { item in
            guard let file = item["file"] as? String, let kind = item["kind"] as? String,
                  let expect = item["expect"] as? String else { return nil }
            return Entry(file: file, kind: kind, expect: expect, text: item["text"] as? String)
        }
    }

    private static let prepared: Result<String, Unavailable> = Result { () throws(Unavailable) -> String in
        try generateIfNeeded()
    }

    private static func generateIfNeeded() throws(Unavailable) -> String {
        guard let scriptBytes = FileManager.default.contents(atPath: script) else {
            throw Unavailable(description: "corpus script missing: \(script)")
        }
        let environment = ProcessInfo.processInfo.environment
        let folder: String
        if let override = environment["QUERN_SPEECH_CORPUS"], !override.isEmpty {
            folder = override
        } else {
            let temporary = environment["TMPDIR"].flatMap { $0.isEmpty ? nil : $0 } ?? "/tmp"
            folder = temporary + "/quern-speech-corpus/" + hashHex([UInt8](scriptBytes))
        }
        let manager = FileManager.default
        if manager.fileExists(atPath: folder + "/manifest.json") { return folder }

        let parent = (folder as NSString).deletingLastPathComponent
        let staging = folder + ".partial-" + UUID().uuidString
        do {
            try manager.createDirectory(atPath: parent, withIntermediateDirectories: true)
            try? manager.removeItem(atPath: staging)
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = ["bash", script, staging]
            let errors = Pipe()
            process.standardError = errors
            process.standardOutput = FileHandle.nullDevice
            try process.run()
            let message = errors.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            guard process.terminationStatus == 0 else {
                try? manager.removeItem(atPath: staging)
                throw Unavailable(description: "make-speech-corpus.sh failed (\(process.terminationStatus)): "
                                  + String(decoding: message, as: UTF8.self)
                                  + " — are espeak-ng and sox installed? (scripts/install-deps.sh)")
            }
            // Another process may have finished first; its corpus is identical.
            if (try? manager.moveItem(atPath: staging, toPath: folder)) == nil {
                try? manager.removeItem(atPath: staging)
            }
        } catch let error as Unavailable {
            throw error
        } catch {
            throw Unavailable(description: "could not generate the speech corpus: \(error)")
        }
        guard manager.fileExists(atPath: folder + "/manifest.json") else {
            throw Unavailable(description: "the speech corpus was not generated in \(folder)")
        }
        return folder
    }

    /// FNV-1a (64-bit) of the script: a cache key, not a security hash.
    private static func hashHex(_ bytes: [UInt8]) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01b3
        }
        return String(hash, radix: 16)
    }
}
