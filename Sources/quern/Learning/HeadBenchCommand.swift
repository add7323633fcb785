import Foundation
import ArgumentParser
import Dispatch
import QuernLearning
import QuernTensor

/// `quern bench heads`: training speed on cached features — N synthetic
/// feature vectors (a seeded linear teacher labels them, so the head has
/// something to learn), a logistic and an MLP head, the default optimiser.
struct HeadBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "heads",
        abstract: "Measures head training on cached features (10,000 × 384, 50 epochs by default).")

    @Option(help: "Feature vectors.") var examples = 10_000
    @Option(help: "Features per vector.") var width = 384
    @Option(help: "Classes.") var classes = 2
    @Option(help: "Epochs (early stopping off).") var epochs = 50
    @Option(name: .customLong("batch-size"), help: "Examples per mini-batch.") var batchSize = 64
    @Option(help: "The MLP's hidden units.") var hidden = 256
    @OptionGroup var compute: ComputeOptions

    func run() throws {
        guard examples > 1, width > 0, classes > 1, epochs > 0, batchSize > 0, hidden > 0 else {
            throw ValidationError("every size must be positive (and examples, classes at least 2)")
        }
        let info = try compute.prepare()
        print("quern \(QuernVersion.string) bench heads — \(info.threads) thread(s), \(examples) × \(width) features, \(classes) classes, \(epochs) epochs of \(batchSize)")
        let features = Tensor.random([examples, width], seed: 1)
        let teacher = Tensor.random([classes, width], seed: 2)
        let scores = matmul(features, teacher, transposeB: true).scalars
        let labels = (0..<examples).map { row in
            let slice = scores[(row * classes)..<((row + 1) * classes)]
            return slice.indices.max { slice[$0] < slice[$1] }.map { $0 - row * classes } ?? 0
        }
        let training = try TrainingExamples(features: features, targets: .classes(labels))
        var options = TrainingOptions()
        options.epochs = epochs
        options.batchSize = batchSize
        options.patience = nil
        for hiddenWidth in [nil, hidden] as [Int?] {
            let architecture = try HeadArchitecture(task: .classification, inputWidth: width, hiddenWidth: hiddenWidth, outputWidth: classes)
            let trainer = try Trainer(architecture: architecture, options: options)
            let start = DispatchTime.now()
            let result = try trainer.train(training)
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
            let name = hiddenWidth.map { "mlp-\($0)" } ?? "logistic"
            let last = result.history.last.map { String(format: "final loss %.4f, accuracy %.4f", $0.trainLoss, $0.trainAccuracy ?? .nan) } ?? ""
            print(String(format: "%-10@ %7.3f s  (%.0f examples/s per epoch)  %@", name as NSString, seconds, Double(examples * epochs) / seconds, last as NSString))
        }
    }
}
