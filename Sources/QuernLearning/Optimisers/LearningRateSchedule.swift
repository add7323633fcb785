#if canImport(Glibc)
import Glibc
#endif
import QuernJSON

/// How the learning rate moves over training: an optional linear warm-up
/// over the first steps, then a decay. Steps count optimiser updates from 0.
///
/// - warm-up: step s < W uses base·(s + 1)/W (PyTorch's
///   `LinearLR(start_factor: 1/W, total_iters: W − 1)`): the first step is
///   not wasted at 0 and step W − 1 reaches the base rate;
/// - then `constant`: the base rate;
/// - or `cosine(minimum:)`: minimum + (base − minimum)·½(1 + cos(π·t/T)),
///   t = s − W, T = total − W (`CosineAnnealingLR(T_max: T, eta_min:)`
///   after the warm-up): it reaches the floor just after the last step;
/// - or `step(everyEpochs: k, factor: γ)`: base·γ^⌊e/k⌋ in (0-based)
///   epoch e (`StepLR`), multiplied by the warm-up factor while it lasts.
public struct LearningRateSchedule: Sendable, Equatable {
    public enum Decay: Sendable, Equatable {
        case constant
        case cosine(minimum: Double)
        case step(everyEpochs: Int, factor: Double)
    }

    public var warmupSteps: Int
    public var decay: Decay

    public init(warmupSteps: Int = 0, decay: Decay = .constant) {
        self.warmupSteps = warmupSteps
        self.decay = decay
    }

    public static let constant = LearningRateSchedule()

    /// The rate of optimiser step `step` (0-based), in epoch `epoch`
    /// (0-based), of a run of `totalSteps` steps.
    public func learningRate(base: Double, step: Int, epoch: Int, totalSteps: Int) -> Double {
        let warmup = step < warmupSteps ? Double(step + 1) / Double(warmupSteps) : 1
        switch decay {
        case .constant:
            return base * warmup
        case let .step(everyEpochs, factor):
            return base * warmup * pow(factor, Double(epoch / everyEpochs))
        case let .cosine(minimum):
            if step < warmupSteps { return base * warmup }
            let span = Double(max(1, totalSteps - warmupSteps))
            let progress = Double(step - warmupSteps) / span
            return minimum + (base - minimum) * 0.5 * (1 + cos(Double.pi * progress))
        }
    }

    /// Refuses a negative warm-up, a floor outside [0, base] or a decay
    /// period below one epoch, naming the option.
    public func validate(baseLearningRate: Double) throws(LearningError) {
        guard warmupSteps >= 0 else { throw LearningError(.invalidParameter, "warmup_steps must be 0 or more, got \(warmupSteps)") }
        switch decay {
        case .constant: break
        case let .cosine(minimum):
            guard minimum >= 0, minimum <= baseLearningRate else {
                throw LearningError(.invalidParameter, "minimum_learning_rate must be in [0, learning_rate], got \(minimum)")
            }
        case let .step(everyEpochs, factor):
            guard everyEpochs >= 1 else { throw LearningError(.invalidParameter, "step_epochs must be at least 1, got \(everyEpochs)") }
            guard factor > 0, factor <= 1 else { throw LearningError(.invalidParameter, "step_factor must be in (0, 1], got \(factor)") }
        }
    }

    /// The decay's name: "constant", "cosine" or "step".
    public var decayName: String {
        switch decay {
        case .constant: return "constant"
        case .cosine: return "cosine"
        case .step: return "step"
        }
    }

    /// `{"warmup_steps", "decay", and the decay's own values}`.
    public var jsonDescription: JSONValue {
        var members: [(key: String, value: JSONValue)] = [("warmup_steps", .int(warmupSteps)), ("decay", .string(decayName))]
        switch decay {
        case .constant: break
        case let .cosine(minimum): members.append(("minimum_learning_rate", .double(minimum)))
        case let .step(everyEpochs, factor):
            members.append(("step_epochs", .int(everyEpochs)))
            members.append(("step_factor", .double(factor)))
        }
        return .object(members)
    }
}
