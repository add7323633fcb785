import QuernTensor

/// An ONNX model file (`ModelProto`): the IR version, the operator sets and
/// the main graph. The file is mapped once; initializer values stay in the
/// mapping until a model converts them. Training info, functions, sparse
/// initializers and subgraph attributes are skipped, not interpreted.
public struct ONNXModel: Sendable {
    public struct OperatorSet: Sendable, Equatable {
        public let domain: String
        public let version: Int64
    }

    public let path: String
    public let irVersion: Int64
    public let operatorSets: [OperatorSet]
    public let graph: ONNXGraph

    /// The opset of the default ("" or "ai.onnx") domain, if declared.
    public var defaultOpset: Int64? {
        operatorSets.first { $0.domain.isEmpty || $0.domain == "ai.onnx" }?.version
    }

    public init(path: String) throws(FormatError) {
        let file: MappedFile
        do { file = try MappedFile(path: path) } catch { throw FormatError(error, file: path) }
        let bytes: UnsafeRawBufferPointer
        do { bytes = try file.bytes(at: 0, count: file.size, what: "the model") } catch { throw FormatError(error, file: path) }
        try self.init(bytes: bytes, path: path, owner: file)
    }

    /// Parses a ModelProto held in `bytes`, which `owner` keeps alive.
    public init(bytes: UnsafeRawBufferPointer, path: String, owner: AnyObject) throws(FormatError) {
        guard !bytes.isEmpty else { throw FormatError(.truncated, file: path, "the file is empty") }
        var reader = ProtobufReader(bytes: bytes, file: path, context: "ModelProto")
        var irVersion: Int64?
        var operatorSets: [OperatorSet] = []
        var graph: ONNXGraph?
        while let field = try reader.nextField() {
            switch field.number {
            case 1: irVersion = try reader.readInt64(field, "ir_version")
            case 7:
                guard graph == nil else { throw reader.invalid("the model has two graphs") }
                guard field.wireType == .lengthDelimited else { throw reader.wrongType(field, "graph") }
                var message = try reader.readMessage("graph")
                graph = try ONNXGraph.parse(&message, owner: owner)
            case 8:
                guard field.wireType == .lengthDelimited else { throw reader.wrongType(field, "opset_import") }
                var message = try reader.readMessage("opset_import")
                var domain = "", version: Int64 = 0
                while let inner = try message.nextField() {
                    switch inner.number {
                    case 1: domain = try message.readString("domain")
                    case 2: version = try message.readInt64(inner, "version")
                    default: try message.skip(inner)
                    }
                }
                operatorSets.append(OperatorSet(domain: domain, version: version))
            default: try reader.skip(field)
            }
        }
        guard let irVersion, irVersion >= 1 else {
            throw FormatError(.badMagic, file: path, "not an ONNX model: no ir_version (the file is not a ModelProto)")
        }
        guard irVersion <= 13 else {
            throw FormatError(.unsupportedVersion, file: path, "ONNX IR version \(irVersion) is newer than this reader knows (up to 13)")
        }
        guard let graph else { throw FormatError(.invalidValue, file: path, "the model has no graph") }
        self.path = path
        self.irVersion = irVersion
        self.operatorSets = operatorSets
        self.graph = graph
    }
}

/// An ONNX `GraphProto`: nodes in topological order, initializers by name,
/// and the declared inputs, outputs and intermediate value infos.
public struct ONNXGraph: Sendable {
    public let name: String
    public let nodes: [ONNXNode]
    public let initializers: [String: ONNXTensor]
    public let inputs: [ONNXValueInfo]
    public let outputs: [ONNXValueInfo]
    public let valueInfos: [ONNXValueInfo]

    /// Graph inputs that are not initializers (what a caller feeds).
    public var feeds: [ONNXValueInfo] { inputs.filter { initializers[$0.name] == nil } }

    static func parse(_ reader: inout ProtobufReader, owner: AnyObject) throws(FormatError) -> ONNXGraph {
        var name = ""
        var nodes: [ONNXNode] = []
        var initializers: [String: ONNXTensor] = [:]
        var inputs: [ONNXValueInfo] = [], outputs: [ONNXValueInfo] = [], valueInfos: [ONNXValueInfo] = []
        while let field = try reader.nextField() {
            switch field.number {
            case 1, 5, 11, 12, 13:
                guard field.wireType == .lengthDelimited else { throw reader.wrongType(field, "graph field \(field.number)") }
                var message = try reader.readMessage(field.number == 1 ? "node \(nodes.count)" : field.number == 5 ? "initializer \(initializers.count)" : "value info")
                switch field.number {
                case 1: nodes.append(try ONNXNode.parse(&message, owner: owner))
                case 5:
                    let tensor = try ONNXTensor.parse(&message, owner: owner)
                    guard !tensor.name.isEmpty else { throw reader.invalid("initializer \(initializers.count) has no name") }
                    guard initializers[tensor.name] == nil else { throw reader.invalid("initializer \(tensor.name) appears twice") }
                    initializers[tensor.name] = tensor
                case 11: inputs.append(try ONNXValueInfo.parse(&message))
                case 12: outputs.append(try ONNXValueInfo.parse(&message))
                default: valueInfos.append(try ONNXValueInfo.parse(&message))
                }
            case 2: name = try reader.readString("name")
            case 15: throw FormatError(.unsupportedType, file: reader.file, "the graph has sparse initializers, which this reader does not handle")
            default: try reader.skip(field)
            }
        }
        return ONNXGraph(name: name, nodes: nodes, initializers: initializers, inputs: inputs, outputs: outputs, valueInfos: valueInfos)
    }
}

/// An ONNX `NodeProto`: one operator application.
public struct ONNXNode: Sendable {
    public let name: String
    public let opType: String
    public let domain: String
    /// Input value names; an empty name marks an omitted optional input.
    public let inputs: [String]
    public let outputs: [String]
    public let attributes: [String: ONNXAttribute]

    /// The node's name for messages: its name, else its op and first output.
    public var label: String { name.isEmpty ? "\(opType) → \(outputs.first ?? "?")" : "\(name) (\(opType))" }

    static func parse(_ reader: inout ProtobufReader, owner: AnyObject) throws(FormatError) -> ONNXNode {
        var name = "", opType = "", domain = ""
        var inputs: [String] = [], outputs: [String] = []
        var attributes: [String: ONNXAttribute] = [:]
        while let field = try reader.nextField() {
            switch field.number {
            case 1: inputs.append(try reader.readString("input"))
            case 2: outputs.append(try reader.readString("output"))
            case 3: name = try reader.readString("name")
            case 4: opType = try reader.readString("op_type")
            case 7: domain = try reader.readString("domain")
            case 5:
                guard field.wireType == .lengthDelimited else { throw reader.wrongType(field, "attribute") }
                var message = try reader.readMessage("attribute")
                let attribute = try ONNXAttribute.parse(&message, owner: owner)
                guard attributes[attribute.name] == nil else { throw reader.invalid("node \(name) has attribute \(attribute.name) twice") }
                attributes[attribute.name] = attribute
            default: try reader.skip(field)
            }
        }
        guard !opType.isEmpty else { throw reader.invalid("node \(name.isEmpty ? "(unnamed)" : name) has no op_type") }
        return ONNXNode(name: name, opType: opType, domain: domain, inputs: inputs, outputs: outputs, attributes: attributes)
    }
}

/// An ONNX `AttributeProto`: the value kinds a ResNet export uses.
public struct ONNXAttribute: Sendable {
    public enum Value: Sendable {
        case float(Float)
        case int(Int64)
        case string(String)
        case tensor(ONNXTensor)
        case floats([Float])
        case ints([Int64])
        /// Graphs, sparse tensors, type protos, string/tensor lists: kept by kind only.
        case unsupported(type: Int32)
    }

    public let name: String
    public let value: Value

    public var int: Int64? { if case .int(let v) = value { v } else { nil } }
    public var float: Float? { if case .float(let v) = value { v } else { nil } }
    public var string: String? { if case .string(let v) = value { v } else { nil } }
    public var ints: [Int64]? { if case .ints(let v) = value { v } else { nil } }
    public var floats: [Float]? { if case .floats(let v) = value { v } else { nil } }
    public var tensor: ONNXTensor? { if case .tensor(let v) = value { v } else { nil } }

    static func parse(_ reader: inout ProtobufReader, owner: AnyObject) throws(FormatError) -> ONNXAttribute {
        var name = ""
        var type: Int32?
        var f: Float?, i: Int64?, s: String?, t: ONNXTensor?
        var floats: [Float] = [], ints: [Int64] = []
        while let field = try reader.nextField() {
            switch field.number {
            case 1: name = try reader.readString("name")
            case 20: type = try reader.readInt32(field, "type")
            case 2: f = try reader.readFloat(field, "f")
            case 3: i = try reader.readInt64(field, "i")
            case 4:
                // `s` is bytes; names, modes and auto_pad values are ASCII.
                let raw = try reader.readLengthDelimited("s")
                s = String(decoding: raw, as: UTF8.self)
            case 5:
                guard field.wireType == .lengthDelimited else { throw reader.wrongType(field, "t") }
                var message = try reader.readMessage("t")
                t = try ONNXTensor.parse(&message, owner: owner)
            case 7: try reader.readRepeatedFloat(field, "floats", into: &floats)
            case 8: try reader.readRepeatedInt64(field, "ints", into: &ints)
            default: try reader.skip(field)
            }
        }
        guard !name.isEmpty else { throw reader.invalid("an attribute has no name") }
        let value: Value
        // Files from before IR 2 may omit `type`; infer it from the field present.
        switch type ?? (f != nil ? 1 : i != nil ? 2 : s != nil ? 3 : t != nil ? 4 : !floats.isEmpty ? 6 : !ints.isEmpty ? 7 : 0) {
        case 1: value = .float(f ?? 0)
        case 2: value = .int(i ?? 0)
        case 3: value = .string(s ?? "")
        case 4:
            guard let t else { throw reader.invalid("attribute \(name) is a tensor but holds none") }
            value = .tensor(t)
        case 6: value = .floats(floats)
        case 7: value = .ints(ints)
        case let other: value = .unsupported(type: other)
        }
        return ONNXAttribute(name: name, value: value)
    }
}

/// An ONNX `ValueInfoProto`: a value's name and, for tensors, element type
/// and shape (nil dims are symbolic, such as a batch dimension).
public struct ONNXValueInfo: Sendable {
    public let name: String
    public let elementType: Int32?
    public let shape: [Int64?]?

    static func parse(_ reader: inout ProtobufReader) throws(FormatError) -> ONNXValueInfo {
        var name = ""
        var elementType: Int32?
        var shape: [Int64?]?
        while let field = try reader.nextField() {
            switch field.number {
            case 1: name = try reader.readString("name")
            case 2:
                guard field.wireType == .lengthDelimited else { throw reader.wrongType(field, "type") }
                var typeProto = try reader.readMessage("type")
                while let typeField = try typeProto.nextField() {
                    guard typeField.number == 1, typeField.wireType == .lengthDelimited else { try typeProto.skip(typeField); continue }
                    var tensorType = try typeProto.readMessage("tensor_type")
                    while let tensorField = try tensorType.nextField() {
                        switch tensorField.number {
                        case 1: elementType = try tensorType.readInt32(tensorField, "elem_type")
                        case 2:
                            guard tensorField.wireType == .lengthDelimited else { throw tensorType.wrongType(tensorField, "shape") }
                            var shapeProto = try tensorType.readMessage("shape")
                            var dims: [Int64?] = []
                            while let dimField = try shapeProto.nextField() {
                                guard dimField.number == 1, dimField.wireType == .lengthDelimited else { try shapeProto.skip(dimField); continue }
                                var dimension = try shapeProto.readMessage("dim")
                                var value: Int64?
                                while let valueField = try dimension.nextField() {
                                    if valueField.number == 1 { value = try dimension.readInt64(valueField, "dim_value") } else { try dimension.skip(valueField) }
                                }
                                dims.append(value)
                            }
                            shape = dims
                        default: try tensorType.skip(tensorField)
                        }
                    }
                }
            default: try reader.skip(field)
            }
        }
        return ONNXValueInfo(name: name, elementType: elementType, shape: shape)
    }
}
