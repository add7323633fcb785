import QuernTensor

/// The features of a dataset's examples, from one model: row i belongs to
/// `examples[exampleIndices[i]]`. Examples whose input failed (a PNG that
/// does not decode, a file changed since it was read) are in `skipped`.
public struct ExtractedFeatures: Sendable {
    /// The feature model: a head records its name and weights SHA-256.
    public var model: ModelIdentity
    /// How the features were taken (e.g. "text-windows"), as the cache keys them.
    public var variant: String
    public var width: Int
    public var exampleIndices: [Int]
    public var vectors: [[Float]]
    public var skipped: [SkippedExample]
    /// Vectors found in the cache, and computed by the model.
    public var cacheHits: Int
    public var computed: Int
    /// Wall time of the whole extraction, and of the computed part alone.
    public var seconds: Double
    public var computeSeconds: Double

    /// Examples the model ran on per second (cache hits excluded).
    public var computedPerSecond: Double { computeSeconds > 0 ? Double(computed) / computeSeconds : 0 }

    /// The vectors as one [count, width] tensor, rows in `exampleIndices` order.
    public func matrix() -> Tensor {
        var flat: [Float] = []
        flat.reserveCapacity(vectors.count * width)
        for vector in vectors { flat += vector }
        return Tensor(vector: flat).reshaped([vectors.count, width])
    }
}
