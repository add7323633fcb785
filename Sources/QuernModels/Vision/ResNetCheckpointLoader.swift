import Foundation
import QuernFormats
import QuernTensor

/// Builds a `ResNet` from PyTorch-style weights: a torchvision state dict
/// (`conv1`, `bn1`, `layerS.B.convK`/`bnK`, `downsample.0/1`, `fc`) or a
/// Hugging Face `ResNetForImageClassification` checkpoint. Depths, widths and
/// the block type come from the tensor names and shapes (torchvision) or
/// config.json (Hugging Face); every tensor is bound strictly.
enum ResNetCheckpointLoader {
    static let batchNormEpsilon: Float = 1e-5

    /// Names of the tensors of one convolution and its BatchNorm.
    struct ConvNames {
        let convolution: String
        let normalization: String
    }

    /// How a checkpoint names things and where a downsampling block strides.
    struct Layout {
        let stem: ConvNames
        /// Branch convolution `index` of block `block` in stage `stage` (all 0-based).
        let branch: (_ stage: Int, _ block: Int, _ index: Int) -> ConvNames
        let shortcut: (_ stage: Int, _ block: Int) -> ConvNames
        let classifier: String
        let firstStageStride: Int
        let variant: ResNetDescription.Variant
    }

    static func loadTorchvision(file: String) throws(ModelError) -> ResNet {
        do {
            let checkpoint = try SafetensorsFile(path: file)
            let binder = WeightBinder(file: file, tensors: checkpoint.tensors)
            binder.ignore { $0.hasSuffix(".num_batches_tracked") }
            let layout = Layout(
                stem: ConvNames(convolution: "conv1", normalization: "bn1"),
                branch: { stage, block, index in
                    ConvNames(convolution: "layer\(stage + 1).\(block).conv\(index + 1)", normalization: "layer\(stage + 1).\(block).bn\(index + 1)")
                },
                shortcut: { stage, block in
                    ConvNames(convolution: "layer\(stage + 1).\(block).downsample.0", normalization: "layer\(stage + 1).\(block).downsample.1")
                },
                classifier: "fc", firstStageStride: 1, variant: .v1_5)
            var depths: [Int] = []
            while binder.contains("layer\(depths.count + 1).0.conv1.weight") {
                var blocks = 0
                while binder.contains("layer\(depths.count + 1).\(blocks).conv1.weight") { blocks += 1 }
                depths.append(blocks)
            }
            guard !depths.isEmpty else {
                throw ModelError(.unsupportedArchitecture, "\(file): no layer1.0.conv1.weight, so this is not a torchvision ResNet state dict")
            }
            let block: ResNetDescription.BlockKind = binder.contains("layer1.0.conv3.weight") ? .bottleneck : .basic
            return try build(binder: binder, layout: layout, block: block, depths: depths, format: .torchvision, labels: nil)
        } catch let error as FormatError {
            throw ModelError(error)
        } catch let error as ModelError {
            throw error
        } catch {
            throw ModelError(.invalidModelFile, "\(file): \(error)")
        }
    }

    static func loadHuggingFace(folder: String) throws(ModelError) -> ResNet {
        let configPath = folder + "/config.json"
        let config: ResNetConfigFile
        do { config = try JSONFile.decode(ResNetConfigFile.self, at: configPath) } catch {
            throw ModelError(.invalidConfig, error.description)
        }
        func positive(_ values: [Int], _ key: String) throws(ModelError) -> [Int] {
            guard !values.isEmpty, values.allSatisfy({ $0 > 0 }) else {
                throw ModelError(.invalidConfig, "\(configPath): \"\(key)\" must be a list of positive integers")
            }
            return values
        }
        if let type = config.modelType, type != "resnet" {
            throw ModelError(.unsupportedArchitecture, "\(configPath): model_type \"\(type)\" is not resnet")
        }
        if let activation = config.hiddenAct, activation != "relu" {
            throw ModelError(.unsupportedArchitecture, "\(configPath): hidden_act \"\(activation)\" is not supported (only relu)")
        }
        let depths = try positive(config.depths, "depths")
        let widths = try positive(config.hiddenSizes, "hidden_sizes")
        guard depths.count == widths.count else {
            throw ModelError(.invalidConfig, "\(configPath): \(depths.count) depths but \(widths.count) hidden_sizes")
        }
        let block: ResNetDescription.BlockKind
        switch config.layerType ?? "bottleneck" {
        case "basic": block = .basic
        case "bottleneck": block = .bottleneck
        case let other: throw ModelError(.unsupportedArchitecture, "\(configPath): layer_type \"\(other)\" is not basic or bottleneck")
        }
        let strideOnFirst = config.downsampleInBottleneck ?? false
        let firstStageStride = (config.downsampleInFirstStage ?? false) ? 2 : 1
        let labels = try Self.labels(config.id2label, configPath: configPath)
        do {
            let checkpoint = try SafetensorsCheckpoint(directory: folder)
            let binder = WeightBinder(file: checkpoint.path, tensors: checkpoint.tensors)
            binder.ignore { $0.hasSuffix(".num_batches_tracked") }
            let stage = "resnet.encoder.stages"
            let layout = Layout(
                stem: ConvNames(convolution: "resnet.embedder.embedder.convolution", normalization: "resnet.embedder.embedder.normalization"),
                branch: { s, b, k in
                    ConvNames(convolution: "\(stage).\(s).layers.\(b).layer.\(k).convolution", normalization: "\(stage).\(s).layers.\(b).layer.\(k).normalization")
                },
                shortcut: { s, b in
                    ConvNames(convolution: "\(stage).\(s).layers.\(b).shortcut.convolution", normalization: "\(stage).\(s).layers.\(b).shortcut.normalization")
                },
                classifier: "classifier.1", firstStageStride: firstStageStride, variant: strideOnFirst ? .v1 : .v1_5)
            let network = try build(binder: binder, layout: layout, block: block, depths: depths, format: .huggingFace, labels: labels)
            guard network.description.widths == widths else {
                throw ModelError(.invalidConfig, "\(configPath): hidden_sizes \(widths) but the weights have stage widths \(network.description.widths)")
            }
            if let embedding = config.embeddingSize, embedding != network.description.stemChannels {
                throw ModelError(.invalidConfig, "\(configPath): embedding_size \(embedding) but the stem convolution has \(network.description.stemChannels) channels")
            }
            return network
        } catch let error as FormatError {
            throw ModelError(error)
        } catch let error as ModelError {
            throw error
        } catch {
            throw ModelError(.invalidModelFile, "\(folder): \(error)")
        }
    }

    /// `id2label` as a list indexed by class id (ids must be 0..<count).
    static func labels(_ names: [String: String]?, configPath: String) throws(ModelError) -> [String]? {
        guard let names, !names.isEmpty else { return nil }
        var labels = [String?](repeating: nil, count: names.count)
        // Sorted so that the entry named in an error does not depend on hashing.
        for (key, name) in names.sorted(by: { $0.key < $1.key }) {
            guard let id = Int(key), id >= 0, id < labels.count, labels[id] == nil else {
                throw ModelError(.invalidConfig, "\(configPath): id2label must map the ids 0..<\(names.count) to strings once each (bad entry \"\(key)\")")
            }
            labels[id] = name
        }
        return labels.compactMap { $0 }
    }

    static func build(binder: WeightBinder, layout: Layout, block: ResNetDescription.BlockKind, depths: [Int],
                      format: ResNetDescription.SourceFormat, labels: [String]?) throws -> ResNet {
        let stemWeight = try binder.stored(layout.stem.convolution + ".weight").shape
        guard stemWeight.count == 4 else {
            throw FormatError(.shapeMismatch, file: binder.file, "tensor \(layout.stem.convolution).weight has shape \(stemWeight), expected a 4-D convolution weight")
        }
        let stem = try conv(binder, layout.stem, inputChannels: stemWeight[1], kernel: 7, stride: 2, relu: true)
        var channels = stem.outputChannels
        var blocks: [ResNetBlock] = []
        var widths: [Int] = []
        let convCount = block == .bottleneck ? 3 : 2
        for (stageIndex, depth) in depths.enumerated() {
            for blockIndex in 0..<depth {
                let stride = blockIndex > 0 ? 1 : stageIndex == 0 ? layout.firstStageStride : 2
                // Which branch convolution carries a downsampling stride.
                let strided = block == .basic ? 0 : layout.variant == .v1 ? 0 : 1
                var branch: [ResNetConv] = []
                var branchChannels = channels
                for index in 0..<convCount {
                    let kernel = block == .basic ? 3 : (index == 1 ? 3 : 1)
                    let unit = try conv(binder, layout.branch(stageIndex, blockIndex, index), inputChannels: branchChannels,
                                        kernel: kernel, stride: index == strided ? stride : 1, relu: index < convCount - 1)
                    branch.append(unit)
                    branchChannels = unit.outputChannels
                }
                let shortcutNames = layout.shortcut(stageIndex, blockIndex)
                var shortcut: ResNetConv?
                if binder.contains(shortcutNames.convolution + ".weight") {
                    shortcut = try conv(binder, shortcutNames, inputChannels: channels, kernel: 1, stride: stride, relu: false)
                } else if stride != 1 || branchChannels != channels {
                    throw FormatError(.missingTensor, file: binder.file,
                                      "tensor \(shortcutNames.convolution).weight is missing (stage \(stageIndex + 1) block \(blockIndex) changes shape and needs a projection shortcut)")
                }
                blocks.append(ResNetBlock(branch: branch, shortcut: shortcut))
                channels = branchChannels
            }
            widths.append(channels)
        }
        let fcShape = try binder.stored(layout.classifier + ".weight").shape
        guard fcShape.count == 2, fcShape[1] == channels else {
            throw FormatError(.shapeMismatch, file: binder.file, "tensor \(layout.classifier).weight has shape \(fcShape), expected [classes, \(channels)]")
        }
        let head = ResNetHead(pool: .global, weight: try binder.tensor(layout.classifier + ".weight"),
                              bias: try binder.tensor(layout.classifier + ".bias", shape: [fcShape[0]]))
        try binder.finish()
        if let labels, labels.count != fcShape[0] {
            throw ModelError(.invalidConfig, "id2label names \(labels.count) classes but the classifier has \(fcShape[0])")
        }
        let description = ResNetDescription(
            format: format, block: block, variant: layout.variant, depths: depths, widths: widths,
            stemChannels: stem.outputChannels, inputChannels: stem.inputChannels, classCount: fcShape[0],
            graphEndsInSoftmax: false, graphInputWasNHWC: false)
        return try ResNet(stem: stem, stemPool: Window2D(kernel: 3, stride: 2, padding: 1), blocks: blocks, head: head,
                          description: description, labels: labels)
    }

    /// A square convolution (padding k/2, no bias) followed by its BatchNorm, folded.
    static func conv(_ binder: WeightBinder, _ names: ConvNames, inputChannels: Int, kernel: Int, stride: Int, relu: Bool) throws -> ResNetConv {
        let weightName = names.convolution + ".weight"
        let shape = try binder.stored(weightName).shape
        guard shape.count == 4, shape[0] > 0, shape[1] == inputChannels, shape[2] == kernel, shape[3] == kernel else {
            throw FormatError(.shapeMismatch, file: binder.file, "tensor \(weightName) has shape \(shape), expected [out, \(inputChannels), \(kernel), \(kernel)]")
        }
        let channels = [shape[0]]
        let n = names.normalization
        let folded = foldBatchNorm(
            convWeight: try binder.tensor(weightName), convBias: nil,
            gamma: try binder.tensor(n + ".weight", shape: channels), beta: try binder.tensor(n + ".bias", shape: channels),
            mean: try binder.tensor(n + ".running_mean", shape: channels), variance: try binder.tensor(n + ".running_var", shape: channels),
            epsilon: batchNormEpsilon)
        return ResNetConv(weight: folded.weight, bias: folded.bias,
                          window: Window2D(kernel: kernel, stride: stride, padding: kernel / 2), relu: relu)
    }
}
