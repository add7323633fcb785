import Foundation

/// Cross-entropy of the true classes under the predicted probabilities,
/// `log_loss(y, p, labels=range(C))`: the mean of −ln p[true], each
/// probability first clipped to [ε, 1 − ε] with ε = 2⁻⁵² (float64's
/// machine epsilon), so a certain mistake costs ln(2⁵²) ≈ 36.04 instead of
/// infinity. Rows are not renormalised (scikit-learn 1.9.1 only warns when
/// they do not sum to one).
enum LogLoss {
    static func mean(trueLabels: [Int], probabilities: [[Double]]) -> Double {
        let epsilon = Double.ulpOfOne
        let losses = zip(trueLabels, probabilities).map { label, row in
            -log(min(max(row[label], epsilon), 1 - epsilon))
        }
        return NumPySum.mean(losses)
    }
}
