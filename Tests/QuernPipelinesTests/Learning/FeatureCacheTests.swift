import Foundation
import QuernPipelines
import QuernTestSupport
import Testing

@Suite struct FeatureCacheTests {
    static let model = String(repeating: "ab", count: 32)

    static func key(_ index: Int) -> String { SHA256Hex.of(Array("input \(index)".utf8)) }
    static func vector(_ index: Int, width: Int = 4) -> [Float] { (0..<width).map { Float(index) + Float($0) / 8 } }

    static func fileSize(_ path: String) throws -> Int {
        (try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? -1
    }

    @Test func storedVectorsAreHitsForTheNextRun() throws {
        let scratch = try Scratch()
        let directory = scratch.root.path + "/features"
        let first = FeatureCache(directory: directory, modelSHA256: Self.model, variant: "text-windows", width: 4)
        #expect(first.notes.isEmpty && first.path == directory + "/" + Self.model + "/text-windows.features")
        #expect(first.vector(for: Self.key(1)) == nil)
        first.store([(Self.key(1), Self.vector(1)), (Self.key(2), Self.vector(2))])
        #expect(first.vector(for: Self.key(2)) == Self.vector(2))
        #expect(first.statistics.hits == 1 && first.statistics.misses == 1 && first.statistics.stored == 2)

        let second = FeatureCache(directory: directory, modelSHA256: Self.model, variant: "text-windows", width: 4)
        #expect(second.statistics.loaded == 2)
        #expect(second.vector(for: Self.key(1)) == Self.vector(1) && second.vector(for: Self.key(2)) == Self.vector(2))
        // Another variant or model is another cache.
        #expect(FeatureCache(directory: directory, modelSHA256: Self.model, variant: "text-truncate", width: 4).count == 0)
        #expect(FeatureCache(directory: directory, modelSHA256: String(repeating: "cd", count: 32), variant: "text-windows", width: 4).count == 0)
        // Vectors of the wrong width or not finite are not stored.
        second.store([(Self.key(3), [1, 2, 3]), (Self.key(4), [1, .nan, 3, 4]), ("not a sha", Self.vector(5))])
        #expect(second.statistics.stored == 0)
    }

    @Test func aTornLastRecordIsCutAndTheRestKept() throws {
        let scratch = try Scratch()
        let directory = scratch.root.path + "/features"
        let cache = FeatureCache(directory: directory, modelSHA256: Self.model, variant: "v", width: 4)
        cache.store((0..<3).map { (Self.key($0), Self.vector($0)) })
        let path = try #require(cache.path)
        let whole = try Self.fileSize(path)
        // A crash half-way through appending a fourth record.
        let handle = try #require(FileHandle(forWritingAtPath: path))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data([52, 0, 0, 0, 9, 9, 9, 9, 9]))
        try handle.close()

        let reopened = FeatureCache(directory: directory, modelSHA256: Self.model, variant: "v", width: 4)
        #expect(reopened.count == 3 && reopened.statistics.droppedBytes == 9)
        #expect(reopened.notes.contains { $0.contains("torn or damaged") })
        #expect(try Self.fileSize(path) == whole)
        reopened.store([(Self.key(3), Self.vector(3))])
        #expect(FeatureCache(directory: directory, modelSHA256: Self.model, variant: "v", width: 4).vector(for: Self.key(3)) == Self.vector(3))
    }

    @Test func damagedOrHostileFilesAreRecomputedNeverACrash() throws {
        let scratch = try Scratch()
        let directory = scratch.root.path + "/features"
        let cache = FeatureCache(directory: directory, modelSHA256: Self.model, variant: "v", width: 4)
        cache.store((0..<4).map { (Self.key($0), Self.vector($0)) })
        let path = try #require(cache.path)

        // A flipped bit in the third record: the first two are kept.
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        let recordSize = 4 + 8 + 32 + 16
        bytes[12 + 2 * recordSize + 50] ^= 0x01
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        let flipped = FeatureCache(directory: directory, modelSHA256: Self.model, variant: "v", width: 4)
        #expect(flipped.count == 2 && flipped.vector(for: Self.key(1)) == Self.vector(1) && flipped.vector(for: Self.key(2)) == nil)

        // Garbage, a header claiming another width, an empty file.
        for junk in [Array(repeating: UInt8(0xEE), count: 1000), Array("QUERNFC1".utf8) + [0xFF, 0xFF, 0xFF, 0x7F] + Array(repeating: 0, count: 64), []] {
            try Data(junk).write(to: URL(fileURLWithPath: path))
            let reopened = FeatureCache(directory: directory, modelSHA256: Self.model, variant: "v", width: 4)
            #expect(reopened.count == 0 && reopened.path != nil)
            reopened.store([(Self.key(9), Self.vector(9))])
            #expect(FeatureCache(directory: directory, modelSHA256: Self.model, variant: "v", width: 4).vector(for: Self.key(9)) == Self.vector(9))
        }

        // A link planted in the file's place is never followed (a repair
        // would truncate its target): the cache is off, with a note.
        let victim = scratch.root.path + "/victim.txt"
        try Data("keep me".utf8).write(to: URL(fileURLWithPath: victim))
        try FileManager.default.removeItem(atPath: path)
        try FileManager.default.createSymbolicLink(atPath: path, withDestinationPath: victim)
        let linked = FeatureCache(directory: directory, modelSHA256: Self.model, variant: "v", width: 4)
        #expect(linked.path == nil && !linked.notes.isEmpty)
        linked.store([(Self.key(1), Self.vector(1))])
        #expect(try String(contentsOfFile: victim, encoding: .utf8) == "keep me")

        // A cache folder that is a file: off, no crash.
        let blocked = scratch.root.path + "/blocked"
        try Data("x".utf8).write(to: URL(fileURLWithPath: blocked))
        let off = FeatureCache(directory: blocked, modelSHA256: Self.model, variant: "v", width: 4)
        #expect(off.path == nil && off.vector(for: Self.key(1)) == nil)
        off.store([(Self.key(1), Self.vector(1))])
    }

    @Test func twoWritersInterleaveWholeRecords() throws {
        let scratch = try Scratch()
        let directory = scratch.root.path + "/features"
        let one = FeatureCache(directory: directory, modelSHA256: Self.model, variant: "v", width: 4)
        let two = FeatureCache(directory: directory, modelSHA256: Self.model, variant: "v", width: 4)
        for index in 0..<20 {
            (index % 2 == 0 ? one : two).store([(Self.key(index), Self.vector(index))])
        }
        let reader = FeatureCache(directory: directory, modelSHA256: Self.model, variant: "v", width: 4)
        #expect(reader.count == 20 && reader.statistics.droppedBytes == 0)
        #expect((0..<20).allSatisfy { reader.vector(for: Self.key($0)) == Self.vector($0) })
    }

    @Test func defaultDirectoryFollowsTheEnvironment() {
        #expect(FeatureCache.defaultDirectory(environment: ["QUERN_CACHE_DIR": "/c", "XDG_CACHE_HOME": "/x", "HOME": "/h"]) == "/c/features")
        #expect(FeatureCache.defaultDirectory(environment: ["XDG_CACHE_HOME": "/x", "HOME": "/h"]) == "/x/quern/features")
        #expect(FeatureCache.defaultDirectory(environment: ["XDG_CACHE_HOME": "relative", "HOME": "/h"]) == "/h/.cache/quern/features")
        let none = FeatureCache(directory: "/tmp", modelSHA256: "", variant: "v", width: 4)
        #expect(none.path == nil && none.vector(for: Self.key(0)) == nil)
    }
}
