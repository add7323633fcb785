import QuernFormats

/// Bounds on the hyperparameters a model file declares, checked before any
/// size is computed from them. A value no real model has (a head dimension of
/// 2^61, a negative context length) would otherwise overflow the products
/// taken at load (`heads × headDimension`, `vocabulary × width`) or ask for
/// absurd allocations; refused here, it only makes its own model unavailable.
///
/// The limits are far above every published model (Llama 3.1 405B: width
/// 16384, 128 heads, 126 layers, 128k vocabulary, 131k context), and small
/// enough that any product of two of them fits an Int with room to spare.
enum ModelDimensions {
    static let vocabulary = 1...(1 << 21)
    static let width = 1...(1 << 16)
    static let feedForward = 1...(1 << 18)
    static let layers = 1...1024
    static let heads = 1...1024
    static let headDimension = 1...4096
    static let contextLength = 1...(1 << 24)
    /// Mel bins, positions and other small counts.
    static let small = 1...(1 << 16)

    /// Throws naming the first value outside its range.
    static func check(_ file: String, _ values: [(name: String, value: Int, range: ClosedRange<Int>)]) throws(FormatError) {
        for (name, value, range) in values where !range.contains(value) {
            throw FormatError(.invalidValue, file: file, "\(name) = \(value) is outside the supported range \(range.lowerBound)...\(range.upperBound); no real model has it")
        }
    }

    /// `a × b` for sizes read from a file, as a typed error instead of a trap.
    static func product(_ a: Int, _ b: Int, _ what: String, file: String) throws(FormatError) -> Int {
        let (result, overflow) = a.multipliedReportingOverflow(by: b)
        guard !overflow, result >= 0 else { throw FormatError(.invalidValue, file: file, "\(what) (\(a) × \(b)) overflows") }
        return result
    }
}
