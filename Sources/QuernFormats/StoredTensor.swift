import QuernTensor

/// A tensor as a checkpoint stores it: its declared shape and element type
/// and where its bytes are. Format readers (GGUF, safetensors, ONNX,
/// CTranslate2) produce these; models never see the file format.
public struct StoredTensor: @unchecked Sendable {
    public enum Element: String, Sendable {
        case f32, f16, bf16, q8_0, q4_0, q4_1, i8, i16, i32, i64, u8, bool, f64
        public var weightType: WeightType? { WeightType(rawValue: rawValue) }
    }

    public let name: String
    /// Row-major shape, outermost dimension first (PyTorch order).
    public let shape: [Int]
    public let element: Element
    public let bytes: UnsafeRawBufferPointer
    /// Keeps `bytes` alive (the mapped file).
    public let owner: AnyObject

    public init(name: String, shape: [Int], element: Element, bytes: UnsafeRawBufferPointer, owner: AnyObject) {
        self.name = name
        self.shape = shape
        self.element = element
        self.bytes = bytes
        self.owner = owner
    }
}
