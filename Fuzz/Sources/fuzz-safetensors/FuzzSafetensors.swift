import FuzzSupport
import QuernFormats

// A .safetensors file: header length, JSON header, dtype/shape/offset
// validation and tiling, then the tensors converted as the models do.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let path = FuzzInput.file("model.safetensors", data, size)
    guard let file = try? SafetensorsFile(path: path) else { return 0 }
    blackHole(file.metadata)
    TensorWalk.walk(file.tensors, file: path)
    return 0
}
