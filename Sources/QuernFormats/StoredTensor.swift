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

extension StoredTensor {
    /// The values as a Float32 tensor of the same shape, from any float or
    /// quantised element type; `file` names the checkpoint in errors.
    public func floats(file: String) throws(FormatError) -> Tensor {
        guard let type = element.weightType else {
            throw FormatError(.unsupportedType, file: file, "tensor \(name) has element type \(element.rawValue), not float")
        }
        do {
            let matrix = try WeightMatrix(type: type, rows: 1, columns: shape.reduce(1, *), bytes: bytes, owner: owner)
            return matrix.dequantized().reshaped(shape)
        } catch {
            throw FormatError(error, file: file)
        }
    }
}
