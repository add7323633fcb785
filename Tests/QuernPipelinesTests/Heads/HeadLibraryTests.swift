import Foundation
import QuernJSON
import QuernLearning
import QuernPipelines
import QuernTestSupport
import Testing

/// The daemon's head library on synthetic heads: which heads it accepts,
/// which it refuses and why, how a request picks heads, and how it keeps in
/// step with the folder while running.
@Suite struct HeadLibraryTests {
    static let text = ModelIdentity(name: "all-minilm-l6-v2", weightsSHA256: HeadFixtures.sha("a"))
    static let image = ModelIdentity(name: "open-nsfw", weightsSHA256: HeadFixtures.sha("b"))

    func library(_ folder: String, log: CollectedLog = CollectedLog()) -> HeadLibrary {
        HeadLibrary(directory: folder, featureModels: [.text: Self.text, .image: Self.image], logger: log.logger)
    }

    @Test func aHeadForAnotherFeatureModelIsRefusedNamingBothChecksums() throws {
        let folder = try HeadFixtures.library()
        let stale = ModelIdentity(name: "all-minilm-l12-v2", weightsSHA256: HeadFixtures.sha("c"))
        try HeadFixtures.logistic(name: "sentiment-en", width: 4, kind: .text, model: stale).install(in: folder)
        try HeadFixtures.logistic(name: "photos", width: 4, kind: .image, model: Self.image).install(in: folder)
        let log = CollectedLog()
        let snapshot = library(folder, log: log).current()

        #expect(snapshot.heads.map(\.name) == ["photos"])
        let refusal = try #require(snapshot.refused.first)
        #expect(refusal.name == "sentiment-en")
        #expect(refusal.error.code == "learning.feature_model_mismatch")
        for fragment in ["all-minilm-l12-v2", HeadFixtures.sha("c"), "all-minilm-l6-v2", HeadFixtures.sha("a")] {
            #expect(refusal.error.message.contains(fragment), "\(refusal.error.message) lacks \(fragment)")
        }
        #expect(log.all.contains { $0.hasPrefix("warning head refused") && $0.contains("head=sentiment-en") && $0.contains(HeadFixtures.sha("c")) },
                "refusals are logged: \(log.all)")
        #expect(log.all.contains { $0.hasPrefix("info head loaded") && $0.contains("head=photos") })

        // It never runs, and a request naming it is told why.
        #expect(try snapshot.select(nil, kind: .text).isEmpty)
        let named = thrownError(QuernError.self) { _ = try snapshot.select(["sentiment-en"], kind: .text) }
        #expect(named?.code == .requestInvalidValue)
        #expect(named?.message.contains("installed but refused") == true && named?.message.contains(HeadFixtures.sha("c")) == true)
    }

    @Test func headsWithoutTheirModelBrokenOrMisnamedAreRefused() throws {
        let folder = try HeadFixtures.library()
        let audio = ModelIdentity(name: "whisper-tiny-en", weightsSHA256: HeadFixtures.sha("d"))
        try HeadFixtures.logistic(name: "digits", width: 4, kind: .audio, model: audio).install(in: folder)
        try HeadFixtures.logistic(name: "topics", width: 4, kind: .text, model: Self.text).write(to: folder + "/renamed")
        try FileManager.default.createDirectory(atPath: folder + "/empty", withIntermediateDirectories: true)
        try Data("not a head".utf8).write(to: URL(fileURLWithPath: folder + "/notes.txt"))
        try FileManager.default.createDirectory(atPath: folder + "/.sentiment.part", withIntermediateDirectories: true)
        let snapshot = library(folder).current()
        #expect(snapshot.heads.isEmpty)
        let reasons = Dictionary(uniqueKeysWithValues: snapshot.refused.map { ($0.name, $0.error) })
        #expect(Set(reasons.keys) == ["digits", "renamed", "empty", "notes.txt"], "hidden entries are ignored")
        #expect(reasons["digits"]?.message.contains("no audio model is loaded") == true)
        #expect(reasons["renamed"]?.message.contains("names the head \"topics\"") == true)
        #expect(reasons["empty"]?.message.contains("has no head.json") == true)
        #expect(reasons["notes.txt"]?.code == "learning.invalid_head")
    }

    @Test func requestsPickHeadsByNameInNameOrder() throws {
        let folder = try HeadFixtures.library()
        for name in ["topics", "sentiment-en"] {
            try HeadFixtures.logistic(name: name, width: 4, kind: .text, model: Self.text).install(in: folder)
        }
        try HeadFixtures.logistic(name: "photos", width: 4, kind: .image, model: Self.image).install(in: folder)
        let snapshot = library(folder).current()
        #expect(try snapshot.select(nil, kind: .text).map(\.name) == ["sentiment-en", "topics"])
        #expect(try snapshot.select(nil, kind: .image).map(\.name) == ["photos"])
        #expect(try snapshot.select(nil, kind: .audio).isEmpty)
        #expect(try snapshot.select([], kind: .text).isEmpty)
        #expect(try snapshot.select(["topics", "sentiment-en"], kind: .text).map(\.name) == ["sentiment-en", "topics"])
        let unknown = thrownError(QuernError.self) { _ = try snapshot.select(["sentiment"], kind: .text) }
        #expect(unknown?.code == .requestInvalidValue)
        #expect(unknown?.message == "field \"heads\": no head \"sentiment\" is installed (installed heads: photos (image), sentiment-en (text), topics (text))")
        let wrongKind = thrownError(QuernError.self) { _ = try snapshot.select(["photos"], kind: .text) }
        #expect(wrongKind?.message.contains("reads image features; this input is text") == true)
    }

    @Test func noHeadsFolderMeansNoHeads() {
        let snapshot = library("/nonexistent/models/heads").current()
        #expect(snapshot.heads.isEmpty && snapshot.refused.isEmpty)
    }

    /// A head dropped in, replaced or removed while running is seen by the
    /// next check, without a restart.
    @Test func keepsInStepWithTheFolder() throws {
        let folder = try HeadFixtures.library()
        let log = CollectedLog()
        let library = library(folder, log: log)
        #expect(library.current().heads.isEmpty)

        // Dropped in the documented way: written aside, renamed into place.
        let first = try HeadFixtures.logistic(name: "sentiment-en", width: 4, kind: .text, model: Self.text, seed: 1)
        try first.write(to: folder + "/.sentiment-en.part")
        #expect(library.current().heads.isEmpty, "a hidden folder is not a head")
        #expect(rename(folder + "/.sentiment-en.part", folder + "/sentiment-en") == 0)
        let vector: [[Float]] = [[0.3, -0.2, 0.1, 0.9]]
        let loaded = try #require(library.current().heads.first)
        #expect(try loaded.file.head.predictions(vector) == first.head.predictions(vector))

        // Replaced by another head of the same name: its new weights answer.
        let second = try HeadFixtures.logistic(name: "sentiment-en", width: 4, kind: .text, model: Self.text, seed: 2)
        try second.install(in: folder)
        let replaced = try #require(library.current().heads.first)
        #expect(try replaced.file.head.predictions(vector) == second.head.predictions(vector))
        #expect(try replaced.file.head.predictions(vector) != first.head.predictions(vector))

        // A second head next to it, then the first removed.
        try HeadFixtures.logistic(name: "topics", width: 4, kind: .text, model: Self.text).install(in: folder)
        #expect(library.current().heads.map(\.name) == ["sentiment-en", "topics"])
        try FileManager.default.removeItem(atPath: folder + "/sentiment-en")
        #expect(library.current().heads.map(\.name) == ["topics"])
        #expect(log.all.contains { $0.hasPrefix("info head removed") && $0.contains("head=sentiment-en") })

        // A head broken in place (its weights rewritten) is refused, then accepted again once fixed.
        let topics = folder + "/topics/head.safetensors"
        let good = try Data(contentsOf: URL(fileURLWithPath: topics))
        try Data(good.prefix(40)).write(to: URL(fileURLWithPath: topics))
        #expect(library.current().heads.isEmpty)
        try good.write(to: URL(fileURLWithPath: topics))
        #expect(library.current().heads.map(\.name) == ["topics"])
    }

    /// An unchanged folder costs a listing and a few stats per check, not a read.
    @Test func anUnchangedFolderIsNotReadAgain() throws {
        let folder = try HeadFixtures.library()
        try HeadFixtures.logistic(name: "topics", width: 384, kind: .text, model: Self.text).install(in: folder)
        // Backdated, so the two-second re-read of fresh files does not apply.
        let old = Date(timeIntervalSinceNow: -60)
        for path in [folder + "/topics", folder + "/topics/head.json", folder + "/topics/head.safetensors"] {
            try FileManager.default.setAttributes([.modificationDate: old], ofItemAtPath: path)
        }
        let library = library(folder)
        let first = try #require(library.current().heads.first)
        let clock = ContinuousClock()
        var again: InstalledHead?
        let elapsed = clock.measure { for _ in 0..<200 { again = library.current().heads.first } }
        #expect(again === first, "the same loaded head, not a re-read")
        #expect(elapsed < .milliseconds(200), "200 checks took \(elapsed)")
    }
}
