import QuernFormats
import QuernTensor

/// Maps an ONNX graph onto the `ResNet` structure: an optional NHWC→NCHW
/// Transpose, the stem (Conv [BatchNormalization] Relu MaxPool), residual
/// blocks (a chain of Conv [BatchNormalization] [Relu] and an identity or
/// projection shortcut meeting at Add, then Relu), a pooling, a flatten, the
/// classifier (MatMul [+ Add] or Gemm) and an optional Softmax.
///
/// Any operator outside that set is refused by name before the walk; a node
/// of a known type that does not sit where a ResNet puts it is refused too,
/// so a graph that loads computes exactly what the ResNet code computes.
enum ResNetONNXLoader {
    static let supportedOperators: Set<String> = [
        "Conv", "BatchNormalization", "Relu", "Add", "MaxPool", "AveragePool", "GlobalAveragePool", "ReduceMean",
        "Transpose", "Reshape", "Flatten", "Squeeze", "MatMul", "Gemm", "Softmax", "Identity", "Constant",
    ]

    static func load(path: String) throws(ModelError) -> ResNet {
        let model: ONNXModel
        do { model = try ONNXModel(path: path) } catch { throw ModelError(error) }
        var walker = try GraphWalker(model: model)
        return try walker.build()
    }

    /// The walk over the graph: which node produces and which consume each value.
    struct GraphWalker {
        let model: ONNXModel
        let graph: ONNXGraph
        var consumers: [String: [Int]] = [:]
        var constants: [String: ONNXTensor] = [:]
        var visited: Set<Int> = []
        var path: String { model.path }

        init(model: ONNXModel) throws(ModelError) {
            self.model = model
            self.graph = model.graph
            for (index, node) in graph.nodes.enumerated() {
                guard node.domain.isEmpty || node.domain == "ai.onnx" else {
                    throw ModelError(.unsupportedArchitecture, "\(model.path): node \(node.label) is in operator domain \"\(node.domain)\", not a ResNet operator")
                }
                guard Self.isSupported(node.opType) else {
                    throw ModelError(.unsupportedArchitecture,
                                     "\(model.path): node \(node.label) uses operator \(node.opType), which is not part of a ResNet (supported: \(supportedOperators.sorted().joined(separator: ", ")))")
                }
                for input in node.inputs where !input.isEmpty { consumers[input, default: []].append(index) }
                if node.opType == "Constant" {
                    guard let value = node.attributes["value"]?.tensor, let output = node.outputs.first else {
                        throw ModelError(.unsupportedArchitecture, "\(model.path): Constant node \(node.label) has no tensor value")
                    }
                    constants[output] = value
                    visited.insert(index)
                }
            }
        }

        static func isSupported(_ op: String) -> Bool { supportedOperators.contains(op) }

        func fail(_ node: ONNXNode, _ why: String) -> ModelError {
            ModelError(.unsupportedArchitecture, "\(path): node \(node.label): \(why)")
        }

        /// A weight: an initializer or a Constant node's value.
        func weight(_ name: String, of node: ONNXNode) throws(ModelError) -> ONNXTensor {
            if let tensor = graph.initializers[name] ?? constants[name] { return tensor }
            throw fail(node, "input \(name) is computed in the graph; a ResNet needs it as a stored weight")
        }

        func floats(_ name: String, of node: ONNXNode) throws(ModelError) -> Tensor {
            let stored = try weight(name, of: node)
            do { return try stored.floats() } catch { throw ModelError(error) }
        }

        /// The single node consuming `value`, marked visited.
        mutating func soleConsumer(of value: String, what: String) throws(ModelError) -> (Int, ONNXNode) {
            let users = consumers[value] ?? []
            guard users.count == 1 else {
                throw ModelError(.unsupportedArchitecture, "\(path): value \(value) (\(what)) feeds \(users.count) nodes where a ResNet has exactly one")
            }
            return (users[0], graph.nodes[users[0]])
        }

        func output(_ node: ONNXNode) throws(ModelError) -> String {
            guard node.outputs.count == 1, let out = node.outputs.first, !out.isEmpty else {
                throw fail(node, "expected exactly one output, found \(node.outputs.count)")
            }
            return out
        }

        func ints(_ node: ONNXNode, _ name: String, default value: [Int]) throws(ModelError) -> [Int] {
            guard let attribute = node.attributes[name] else { return value }
            guard let list = attribute.ints else { throw fail(node, "attribute \(name) is not a list of integers") }
            var result: [Int] = []
            for item in list {
                guard item >= 0, item <= 1 << 16 else { throw fail(node, "attribute \(name) has value \(item)") }
                result.append(Int(item))
            }
            return result
        }

        func int(_ node: ONNXNode, _ name: String, default value: Int64) throws(ModelError) -> Int64 {
            guard let attribute = node.attributes[name] else { return value }
            guard let int = attribute.int else { throw fail(node, "attribute \(name) is not an integer") }
            return int
        }

        /// kernel_shape, strides, pads, dilations of a 2-D Conv or pool node.
        func window(_ node: ONNXNode, kernel: (Int, Int)?) throws(ModelError) -> Window2D {
            if let autoPad = node.attributes["auto_pad"]?.string, autoPad != "NOTSET" {
                throw fail(node, "auto_pad \(autoPad) is not supported; export with explicit pads")
            }
            let shape = try ints(node, "kernel_shape", default: kernel.map { [$0.0, $0.1] } ?? [])
            let strides = try ints(node, "strides", default: [1, 1])
            let pads = try ints(node, "pads", default: [0, 0, 0, 0])
            let dilations = try ints(node, "dilations", default: [1, 1])
            guard shape.count == 2, shape.allSatisfy({ $0 >= 1 }), strides.count == 2, strides.allSatisfy({ $0 >= 1 }),
                  pads.count == 4, dilations.count == 2, dilations.allSatisfy({ $0 >= 1 }) else {
                throw fail(node, "needs a 2-D window (kernel_shape \(shape), strides \(strides), pads \(pads), dilations \(dilations))")
            }
            // Bounds that keep a hostile file from asking for huge maps or loops:
            // ResNets use windows up to 7x7 (a pooling may cover the whole final map).
            guard (shape + strides + dilations).allSatisfy({ $0 <= 32 }) else {
                throw fail(node, "kernel_shape \(shape), strides \(strides) or dilations \(dilations) exceed 32, outside what a ResNet uses")
            }
            for (index, pad) in pads.enumerated() {
                let extent = dilations[index % 2] * (shape[index % 2] - 1) + 1
                guard pad < extent else { throw fail(node, "padding \(pads) is not smaller than the kernel extent \(extent)") }
            }
            if let kernel, (shape[0], shape[1]) != kernel {
                throw fail(node, "kernel_shape \(shape) does not match its weight \(kernel)")
            }
            // ONNX pads are [top, left, bottom, right] (begins, then ends).
            return Window2D(kernel: (shape[0], shape[1]), stride: (strides[0], strides[1]),
                            padding: (pads[0], pads[1], pads[2], pads[3]), dilation: (dilations[0], dilations[1]))
        }

        /// Conv [BatchNormalization] [Relu] starting at node `index`.
        /// Returns the folded convolution and the value it produces.
        mutating func convUnit(at index: Int, expectedInputChannels: Int?) throws(ModelError) -> (ResNetConv, String) {
            let node = graph.nodes[index]
            guard node.opType == "Conv" else { throw fail(node, "expected a Conv here, found \(node.opType)") }
            visited.insert(index)
            guard node.inputs.count >= 2, node.inputs.count <= 3 else { throw fail(node, "a Conv needs 2 or 3 inputs") }
            guard try int(node, "group", default: 1) == 1 else { throw fail(node, "grouped convolutions are not part of a ResNet") }
            var weight = try floats(node.inputs[1], of: node)
            guard weight.rank == 4, weight.shape.allSatisfy({ $0 >= 1 }) else { throw fail(node, "weight \(weight.shape) is not [O, I, kh, kw]") }
            if let expectedInputChannels, weight.shape[1] != expectedInputChannels {
                throw fail(node, "weight \(weight.shape) takes \(weight.shape[1]) channels but receives \(expectedInputChannels)")
            }
            var bias = Tensor(zeros: [weight.shape[0]])
            if node.inputs.count == 3, !node.inputs[2].isEmpty {
                bias = try floats(node.inputs[2], of: node)
                guard bias.count == weight.shape[0] else { throw fail(node, "bias has \(bias.count) values for \(weight.shape[0]) channels") }
                bias = bias.reshaped([weight.shape[0]])
            }
            let window = try self.window(node, kernel: (weight.shape[2], weight.shape[3]))
            var value = try output(node)
            var relu = false
            // Optional BatchNormalization, then optional Relu, when each is the sole consumer.
            if let users = consumers[value], users.count == 1, graph.nodes[users[0]].opType == "BatchNormalization" {
                let bn = graph.nodes[users[0]]
                visited.insert(users[0])
                guard bn.inputs.count == 5, bn.inputs[0] == value else { throw fail(bn, "a BatchNormalization needs X, scale, B, mean, var") }
                let epsilon = bn.attributes["epsilon"]?.float ?? 1e-5
                let channels = weight.shape[0]
                var parameters: [Tensor] = []
                for name in bn.inputs[1...] {
                    let tensor = try floats(name, of: bn)
                    guard tensor.count == channels else { throw fail(bn, "parameter \(name) has \(tensor.count) values for \(channels) channels") }
                    parameters.append(tensor.reshaped([channels]))
                }
                let folded = foldBatchNorm(convWeight: weight, convBias: bias, gamma: parameters[0], beta: parameters[1],
                                           mean: parameters[2], variance: parameters[3], epsilon: epsilon)
                weight = folded.weight
                bias = folded.bias
                value = try output(bn)
            }
            if let users = consumers[value], users.count == 1, graph.nodes[users[0]].opType == "Relu" {
                visited.insert(users[0])
                relu = true
                value = try output(graph.nodes[users[0]])
            }
            return (ResNetConv(weight: weight, bias: bias, window: window, relu: relu), value)
        }

        mutating func build() throws(ModelError) -> ResNet {
            let feeds = graph.feeds
            guard feeds.count == 1, let input = feeds.first else {
                throw ModelError(.unsupportedArchitecture, "\(path): a ResNet graph has one input, this one has \(feeds.count)")
            }
            var value = input.name
            var nhwc = false
            // The open_nsfw export takes NHWC and transposes to NCHW first.
            var (index, node) = try soleConsumer(of: value, what: "the graph input")
            if node.opType == "Transpose" {
                guard try ints(node, "perm", default: []) == [0, 3, 1, 2] else {
                    throw fail(node, "the input Transpose must be NHWC→NCHW (perm [0, 3, 1, 2])")
                }
                visited.insert(index)
                nhwc = true
                value = try output(node)
                (index, node) = try soleConsumer(of: value, what: "the transposed input")
            }
            let (stem, stemOutput) = try convUnit(at: index, expectedInputChannels: nil)
            guard stem.relu else { throw fail(node, "the stem convolution must be followed by Relu") }
            value = stemOutput
            var stemPool: Window2D?
            (index, node) = try soleConsumer(of: value, what: "the stem output")
            if node.opType == "MaxPool" {
                visited.insert(index)
                guard try int(node, "ceil_mode", default: 0) == 0 else { throw fail(node, "ceil_mode 1 is not supported") }
                guard node.outputs.count == 1 else { throw fail(node, "the Indices output of MaxPool is not supported") }
                stemPool = try window(node, kernel: nil)
                value = try output(node)
            }
            var channels = stem.outputChannels
            var blocks: [ResNetBlock] = []
            var depths: [Int] = []
            var widths: [Int] = []
            var strideOnFirst1x1: Bool?
            var isBottleneck: Bool?
            while true {
                let users = consumers[value] ?? []
                if users.count == 1 { break }  // the pooling of the head
                let block = try residualBlock(from: value, channels: channels)
                // A stage starts at the first block and at every block with a projection.
                if blocks.isEmpty || block.block.shortcut != nil {
                    if !blocks.isEmpty { widths.append(channels) }
                    depths.append(0)
                }
                blocks.append(block.block)
                depths[depths.count - 1] += 1
                let branch = block.block.branch
                if branch.count == 3 {
                    isBottleneck = true
                    if branch.contains(where: { $0.window.stride.height > 1 }) { strideOnFirst1x1 = branch[0].window.stride.height > 1 }
                } else {
                    isBottleneck = isBottleneck ?? false
                }
                channels = branch[branch.count - 1].outputChannels
                value = block.output
            }
            if !depths.isEmpty { widths.append(channels) }
            let head = try self.head(from: value, channels: channels)
            let unvisited = (0..<graph.nodes.count).filter { !visited.contains($0) }
            if let first = unvisited.first {
                throw fail(graph.nodes[first], "this node is not part of the ResNet structure (\(unvisited.count) such node(s))")
            }
            let description = ResNetDescription(
                format: .onnx, block: (isBottleneck ?? false) ? .bottleneck : .basic,
                variant: (strideOnFirst1x1 ?? false) ? .v1 : .v1_5, depths: depths, widths: widths,
                stemChannels: stem.outputChannels, inputChannels: stem.inputChannels, classCount: head.head.classes,
                graphEndsInSoftmax: head.softmax, graphInputWasNHWC: nhwc)
            return try ResNet(stem: stem, stemPool: stemPool, blocks: blocks, head: head.head, description: description, labels: nil)
        }

        /// A residual block whose input is `value`: two consumers (the branch's
        /// first Conv and either the Add or a projection Conv).
        mutating func residualBlock(from value: String, channels: Int) throws(ModelError) -> (block: ResNetBlock, output: String) {
            let users = consumers[value] ?? []
            guard users.count == 2 else {
                throw ModelError(.unsupportedArchitecture, "\(path): value \(value) feeds \(users.count) nodes; a residual block input feeds two (branch and shortcut)")
            }
            // Follow each consumer as a chain of conv units until an Add.
            var chains: [(convs: [ResNetConv], end: String)] = []
            var directAdd: Int?
            for user in users {
                if graph.nodes[user].opType == "Add" { directAdd = user; continue }
                var convs: [ResNetConv] = []
                var current = user
                var flowing = channels
                while true {
                    let (unit, produced) = try convUnit(at: current, expectedInputChannels: flowing)
                    convs.append(unit)
                    flowing = unit.outputChannels
                    let (next, nextNode) = try soleConsumer(of: produced, what: "a block's convolution output")
                    if nextNode.opType == "Add" {
                        chains.append((convs, produced))
                        break
                    }
                    guard convs.count < 3 else { throw fail(nextNode, "a residual branch has more than three convolutions") }
                    current = next
                }
            }
            let branch: [ResNetConv]
            var shortcut: ResNetConv?
            let addInputs: Set<String>
            if directAdd != nil {
                guard chains.count == 1 else { throw ModelError(.unsupportedArchitecture, "\(path): block at \(value) has no branch") }
                branch = chains[0].convs
                addInputs = [chains[0].end, value]
            } else {
                guard chains.count == 2 else { throw ModelError(.unsupportedArchitecture, "\(path): block at \(value) is not branch + shortcut") }
                let sorted = chains.sorted { $0.convs.count < $1.convs.count }
                guard sorted[0].convs.count == 1, sorted[1].convs.count >= 2 else {
                    throw ModelError(.unsupportedArchitecture, "\(path): block at \(value) has branches of \(sorted[0].convs.count) and \(sorted[1].convs.count) convolutions; expected a 1-convolution projection and a 2- or 3-convolution branch")
                }
                shortcut = sorted[0].convs[0]
                branch = sorted[1].convs
                addInputs = [sorted[0].end, sorted[1].end]
            }
            guard branch.count >= 2, !branch[branch.count - 1].relu, branch.dropLast().allSatisfy(\.relu), shortcut?.relu != true else {
                throw ModelError(.unsupportedArchitecture, "\(path): block at \(value): ReLUs must follow every branch convolution but the last, and not the shortcut")
            }
            let endUsers = consumers[chains[chains.count - 1].end] ?? []
            let addIndex = endUsers[0]
            let add = graph.nodes[addIndex]
            guard add.inputs.count == 2, Set(add.inputs) == addInputs else {
                throw fail(add, "the residual Add must add the branch and the shortcut")
            }
            visited.insert(addIndex)
            let sum = try output(add)
            let (reluIndex, relu) = try soleConsumer(of: sum, what: "a residual sum")
            guard relu.opType == "Relu" else { throw fail(relu, "a residual Add must be followed by Relu, found \(relu.opType)") }
            visited.insert(reluIndex)
            return (ResNetBlock(branch: branch, shortcut: shortcut), try output(relu))
        }

        /// Pool, flatten, classifier and optional softmax.
        mutating func head(from start: String, channels: Int) throws(ModelError) -> (head: ResNetHead, softmax: Bool) {
            var (index, node) = try soleConsumer(of: start, what: "the last block's output")
            let pool: ResNetHead.Pool
            switch node.opType {
            case "GlobalAveragePool":
                pool = .global
            case "ReduceMean":
                guard try ints(node, "axes", default: []) == [2, 3] else { throw fail(node, "ReduceMean must average over axes [2, 3]") }
                pool = .global
            case "AveragePool":
                guard try int(node, "ceil_mode", default: 0) == 0 else { throw fail(node, "ceil_mode 1 is not supported") }
                pool = .window(try window(node, kernel: nil), countIncludePad: try int(node, "count_include_pad", default: 0) != 0)
            default:
                throw fail(node, "expected the average pooling of the head, found \(node.opType)")
            }
            visited.insert(index)
            var value = try output(node)
            (index, node) = try soleConsumer(of: value, what: "the pooled map")
            // Reshape / Flatten / Squeeze / Identity between pool and classifier.
            while ["Reshape", "Flatten", "Squeeze", "Identity"].contains(node.opType) {
                visited.insert(index)
                for extra in node.inputs.dropFirst() where !extra.isEmpty {
                    guard graph.initializers[extra] != nil || constants[extra] != nil else {
                        throw fail(node, "its shape input \(extra) is computed in the graph; only stored shapes are supported")
                    }
                }
                value = try output(node)
                (index, node) = try soleConsumer(of: value, what: "the pooled features")
            }
            visited.insert(index)
            var weight: Tensor
            var bias = Tensor(zeros: [0])
            switch node.opType {
            case "MatMul":
                guard node.inputs.count == 2, node.inputs[0] == value else { throw fail(node, "the classifier must multiply the features by a stored weight") }
                let w = try floats(node.inputs[1], of: node)
                guard w.rank == 2, w.shape[0] == channels else { throw fail(node, "classifier weight \(w.shape) must be [\(channels), classes]") }
                weight = transposeLastTwo(w)
                value = try output(node)
                if let users = consumers[value], users.count == 1, graph.nodes[users[0]].opType == "Add" {
                    let add = graph.nodes[users[0]]
                    visited.insert(users[0])
                    guard add.inputs.count == 2, let other = add.inputs.first(where: { $0 != value }) else { throw fail(add, "the classifier bias Add is malformed") }
                    bias = try floats(other, of: add)
                    value = try output(add)
                }
            case "Gemm":
                guard node.inputs.count >= 2, node.inputs[0] == value else { throw fail(node, "the classifier must multiply the features by a stored weight") }
                guard try int(node, "transA", default: 0) == 0 else { throw fail(node, "transA is not supported") }
                let alpha = node.attributes["alpha"]?.float ?? 1, beta = node.attributes["beta"]?.float ?? 1
                let w = try floats(node.inputs[1], of: node)
                guard w.rank == 2 else { throw fail(node, "classifier weight \(w.shape) is not 2-D") }
                weight = try int(node, "transB", default: 0) != 0 ? w.copy() : transposeLastTwo(w)
                guard weight.shape[1] == channels else { throw fail(node, "classifier weight \(w.shape) does not take \(channels) features") }
                if alpha != 1 { weight = scale(weight, by: alpha) }
                if node.inputs.count == 3, !node.inputs[2].isEmpty { bias = scale(try floats(node.inputs[2], of: node), by: beta) }
                value = try output(node)
            default:
                throw fail(node, "expected the classifier (MatMul or Gemm), found \(node.opType)")
            }
            let classes = weight.shape[0]
            if bias.count == 0 { bias = Tensor(zeros: [classes]) }
            guard bias.count == classes else { throw ModelError(.unsupportedArchitecture, "\(path): classifier bias has \(bias.count) values for \(classes) classes") }
            var softmax = false
            if let users = consumers[value], users.count == 1, graph.nodes[users[0]].opType == "Softmax" {
                let node = graph.nodes[users[0]]
                let axis = try int(node, "axis", default: 1)
                guard axis == 1 || axis == -1 else { throw fail(node, "Softmax over axis \(axis) is not over the classes") }
                visited.insert(users[0])
                softmax = true
            }
            return (ResNetHead(pool: pool, weight: weight.reshaped([classes, channels]), bias: bias.reshaped([classes])), softmax)
        }
    }
}
