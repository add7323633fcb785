/// Why a head could not be trained, evaluated, loaded or run: a stable code
/// (`learning.*`) and a message that names the file or value at fault and,
/// where there is one, the fix.
public struct LearningError: Error, CustomStringConvertible, Sendable, Equatable {
    public enum Kind: String, Sendable {
        /// A dataset that cannot be trained on (too few examples of a class,
        /// mixed kinds, no label column…).
        case invalidDataset = "learning.invalid_dataset"
        /// A hyper-parameter or option outside its range.
        case invalidParameter = "learning.invalid_parameter"
        /// A head folder that is missing a file or whose files disagree.
        case invalidHead = "learning.invalid_head"
        /// A head trained on another feature model than the one installed.
        case featureModelMismatch = "learning.feature_model_mismatch"
        /// Features whose width or count does not fit the head or the labels.
        case shapeMismatch = "learning.shape_mismatch"
        /// Training produced a non-finite loss (learning rate too high…).
        case diverged = "learning.diverged"
        /// Features given to a trained head, or its outputs, that are not
        /// finite numbers.
        case nonFinite = "learning.non_finite"
        case io = "learning.io"
    }

    public let kind: Kind
    public let message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var code: String { kind.rawValue }
    public var description: String { message }
}
