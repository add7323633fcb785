import Foundation
import QuernTestSupport

/// Small real data for the dataset and feature tests: a few FSDD recordings
/// and CIFAR-10 PNGs from ../shared/datasets, and files written into a
/// temporary folder.
final class DatasetFolder {
    let scratch: Scratch
    var root: String { scratch.root.path + "/data" }

    init() throws {
        scratch = try Scratch()
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
    }

    static var shared: String {
        TestPaths.datasets
    }

    /// FSDD recording `{digit}_{speaker}_{index}.wav`.
    static func fsdd(_ name: String) -> String { shared + "/fsdd/recordings/" + name }
    /// CIFAR-10 subset PNG, e.g. `cifar("train/cat/0000.png")`.
    static func cifar(_ relative: String) -> String { shared + "/cifar10-subset/" + relative }

    @discardableResult
    func write(_ relative: String, _ bytes: [UInt8]) throws -> String {
        let path = root + "/" + relative
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }

    @discardableResult
    func write(_ relative: String, text: String) throws -> String { try write(relative, Array(text.utf8)) }

    @discardableResult
    func copy(_ source: String, to relative: String) throws -> String {
        try write(relative, [UInt8](try Data(contentsOf: URL(fileURLWithPath: source))))
    }

    static func bytes(_ path: String) throws -> [UInt8] { [UInt8](try Data(contentsOf: URL(fileURLWithPath: path))) }
}
