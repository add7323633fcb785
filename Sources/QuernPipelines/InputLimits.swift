/// Ceilings on what one input may cost. Checked before the expensive work
/// (reading, inflating, decoding), so a hostile file is refused cheaply.
public struct InputLimits: Sendable, Equatable {
    /// Largest file read at all.
    public var maxBytes: Int
    /// Largest image, width × height, judged from the PNG or JPEG header before any
    /// pixel is inflated (a decompression bomb is a small file with a huge header).
    public var maxPixels: Int
    /// Longest audio, judged from the header before decoding.
    public var maxAudioSeconds: Double
    /// Longest text, in Unicode scalars (characters as models count them, roughly).
    public var maxTextCharacters: Int

    public init(maxBytes: Int = 256 << 20, maxPixels: Int = 40_000_000, maxAudioSeconds: Double = 3600, maxTextCharacters: Int = 1_000_000) {
        self.maxBytes = maxBytes
        self.maxPixels = maxPixels
        self.maxAudioSeconds = maxAudioSeconds
        self.maxTextCharacters = maxTextCharacters
    }
}
