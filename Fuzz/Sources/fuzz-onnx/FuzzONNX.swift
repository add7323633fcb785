import FuzzSupport
import QuernFormats
import QuernModels

// An .onnx file: the protobuf/ModelProto reader from memory, every node,
// attribute and initializer (values converted when small), then
// ResNet.load — the ONNX graph walk the image pipeline uses.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    // libFuzzer's buffer outlives everything made from it in this call.
    guard let model = try? ONNXModel(bytes: UnsafeRawBufferPointer(start: data, count: size), path: "fuzz.onnx", owner: Owner())
    else { return 0 }
    blackHole(model.defaultOpset)
    let graph = model.graph
    for node in graph.nodes {
        blackHole(node.label)
        for (_, attribute) in node.attributes {
            blackHole(attribute.int); blackHole(attribute.float); blackHole(attribute.string)
            blackHole(attribute.ints); blackHole(attribute.floats)
            if let tensor = attribute.tensor { convert(tensor) }
        }
    }
    for (_, tensor) in graph.initializers { convert(tensor) }
    blackHole(graph.feeds.count + graph.outputs.count + graph.valueInfos.count)
    let path = FuzzInput.file("model.onnx", data, size)
    if let network = try? ResNet.load(path: path) { blackHole(network.classCount) }
    return 0
}

func convert(_ tensor: ONNXTensor) {
    blackHole(try? tensor.floats())
    blackHole(try? tensor.integers())
}

final class Owner {}
