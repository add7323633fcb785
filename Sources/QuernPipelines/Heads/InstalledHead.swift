import QuernLearning
import QuernTensor

/// A head the library loaded and accepted: its feature model is the one
/// loaded for its kind. Immutable; a changed head on disk becomes a new one.
public final class InstalledHead: Sendable {
    public let file: HeadFile
    /// The folder it was read from.
    public let folder: String

    init(file: HeadFile, folder: String) {
        self.file = file
        self.folder = folder
    }

    public var name: String { file.manifest.name }
    public var kind: FeatureKind { file.manifest.featureModel.kind }

    /// One outcome per vector, in order, from one forward pass over all of
    /// them (one GEMM per layer for the whole batch). A vector of the wrong
    /// width, or one whose output is not finite, gets an error of its own.
    func predict(_ vectors: [[Float]]) -> [HeadOutputs.Outcome] {
        let width = file.head.architecture.inputWidth
        var outcomes = [HeadOutputs.Outcome?](repeating: nil, count: vectors.count)
        var rows: [Int] = []
        for (index, vector) in vectors.enumerated() {
            if vector.count != width {
                outcomes[index] = .failure(code: LearningError.Kind.shapeMismatch.rawValue,
                                           message: "the vector has \(vector.count) values; head \(name) reads \(width)")
            } else if !vector.allSatisfy(\.isFinite) {
                outcomes[index] = .failure(code: LearningError.Kind.nonFinite.rawValue, message: "the vector holds values that are not finite")
            } else {
                rows.append(index)
            }
        }
        if !rows.isEmpty {
            do {
                let predictions = try file.head.predictions(rows.map { vectors[$0] })
                for (index, prediction) in zip(rows, predictions) {
                    outcomes[index] = Self.isFinite(prediction)
                        ? .prediction(prediction)
                        : .failure(code: LearningError.Kind.nonFinite.rawValue, message: "head \(name) produced values that are not finite")
                }
            } catch {
                for index in rows { outcomes[index] = .failure(code: error.code, message: error.message) }
            }
        }
        return outcomes.map { $0 ?? .failure(code: LearningError.Kind.shapeMismatch.rawValue, message: "head \(name) gave no output") }
    }

    private static func isFinite(_ prediction: HeadPrediction) -> Bool {
        switch prediction {
        case let .value(value): return value.isFinite
        case let .label(_, scores): return scores.allSatisfy { $0.1.isFinite }
        }
    }
}
