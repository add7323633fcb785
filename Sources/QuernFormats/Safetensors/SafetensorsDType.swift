/// The safetensors `dtype` strings Quern can represent, with their sizes.
/// Float types feed weights; the integer and boolean ones are listed so that
/// buffers such as BERT's I64 `embeddings.position_ids` are read (and
/// bounds-checked) like everything else, then skipped by the model.
enum SafetensorsDType {
    static func element(for dtype: String) -> (element: StoredTensor.Element, bytes: Int)? {
        switch dtype {
        case "F64": return (.f64, 8)
        case "F32": return (.f32, 4)
        case "F16": return (.f16, 2)
        case "BF16": return (.bf16, 2)
        case "I64": return (.i64, 8)
        case "I32": return (.i32, 4)
        case "I16": return (.i16, 2)
        case "I8": return (.i8, 1)
        case "U8": return (.u8, 1)
        case "BOOL": return (.bool, 1)
        default: return nil
        }
    }

    /// Types the format defines that Quern does not read (yet), so the error
    /// can say "unsupported" rather than "invalid".
    static let knownButUnsupported: Set<String> = [
        "U16", "U32", "U64", "F8_E4M3", "F8_E5M2", "F8_E8M0", "F6_E2M3", "F6_E3M2", "F4", "C64",
    ]
}
