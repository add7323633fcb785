import Foundation
import QuernFormats
import QuernTensor

/// What a ResNet's result pipeline gets back for a batch.
public struct ResNetOutput: Sendable {
    /// [N, classes], before any softmax.
    public var logits: Tensor
    /// [N, classes], softmax of the logits.
    public var probabilities: Tensor
    /// [N, featureWidth], the pooled feature (the classifier's input).
    public var features: Tensor
}

/// How a loaded ResNet is built, for logs and results.
public struct ResNetDescription: Sendable, Equatable, CustomStringConvertible {
    public enum SourceFormat: String, Sendable { case onnx, torchvision, huggingFace = "huggingface" }
    public enum BlockKind: String, Sendable { case basic, bottleneck }
    /// Where a downsampling bottleneck strides: torchvision's v1.5 strides
    /// the 3×3, Caffe's v1 (and HF `downsample_in_bottleneck`) the first 1×1.
    public enum Variant: String, Sendable { case v1 = "v1 (stride on the first 1x1)", v1_5 = "v1.5 (stride on the 3x3)" }

    public var format: SourceFormat
    public var block: BlockKind
    public var variant: Variant
    public var depths: [Int]
    /// Output channels of each stage.
    public var widths: [Int]
    public var stemChannels: Int
    public var inputChannels: Int
    public var classCount: Int
    /// The ONNX graph ended in a Softmax (its outputs were probabilities).
    public var graphEndsInSoftmax: Bool
    /// The ONNX graph took NHWC input and transposed it; `run` takes NCHW regardless.
    public var graphInputWasNHWC: Bool

    public var description: String {
        "ResNet (\(format.rawValue)): \(block.rawValue) blocks \(depths), widths \(widths), stem \(stemChannels), \(variant.rawValue), \(classCount) classes"
    }
}

/// A convolutional residual network (He et al.) for image classification,
/// covering torchvision's ResNet-18…152 and any widths, Caffe-style v1
/// bottlenecks (open_nsfw) and Hugging Face `ResNetForImageClassification`.
///
/// BatchNorm is folded into the convolutions at load, so the network is a
/// chain of convolutions with bias, ReLUs, residual additions and pooling.
public final class ResNet: Sendable {
    let stem: ResNetConv
    let stemPool: Window2D?
    let blocks: [ResNetBlock]
    let head: ResNetHead
    public let description: ResNetDescription
    public let labels: [String]?

    init(stem: ResNetConv, stemPool: Window2D?, blocks: [ResNetBlock], head: ResNetHead,
         description: ResNetDescription, labels: [String]?) throws(ModelError) {
        self.stem = stem
        self.stemPool = stemPool
        self.blocks = blocks
        self.head = head
        self.description = description
        self.labels = labels
        try validate()
    }

    private init(converting network: ResNet, to precision: Precision) {
        stemPool = network.stemPool
        stem = network.stem.converted(to: precision)
        blocks = network.blocks.map { ResNetBlock(branch: $0.branch.map { $0.converted(to: precision) }, shortcut: $0.shortcut?.converted(to: precision)) }
        head = network.head
        description = network.description
        labels = network.labels
    }

    /// This network with its convolutions' products in `precision`, where
    /// their shapes allow (pooling and the classifier stay float32). The
    /// weights are repacked once; the float32 panels are released with the
    /// original network.
    public func converted(to precision: Precision) -> ResNet {
        precision == self.precision ? self : ResNet(converting: self, to: precision)
    }

    /// `bfloat16` when any convolution runs in it.
    public var precision: Precision {
        allConvolutions.contains { $0.kernel.precision == .bfloat16 } ? .bfloat16 : .float32
    }

    /// Bytes of prepared weights the network holds (convolutions and classifier).
    public var weightBytes: Int {
        allConvolutions.reduce((head.weight.count + head.bias.count) * 4) { $0 + $1.kernel.residentBytes }
    }

    private var allConvolutions: [ResNetConv] {
        [stem] + blocks.flatMap { $0.branch + ($0.shortcut.map { [$0] } ?? []) }
    }

    public var classCount: Int { head.classes }
    public var featureWidth: Int { head.features }
    public var inputChannels: Int { stem.inputChannels }

    /// Loads a ResNet from an `.onnx` file, a torchvision state-dict
    /// `.safetensors` file, or a Hugging Face folder (config.json +
    /// model.safetensors).
    public static func load(path: String) throws(ModelError) -> ResNet {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw ModelError(.invalidConfig, "\(path): no such file or folder")
        }
        if isDirectory.boolValue { return try ResNetCheckpointLoader.loadHuggingFace(folder: path) }
        if path.lowercased().hasSuffix(".onnx") { return try ResNetONNXLoader.load(path: path) }
        if path.lowercased().hasSuffix(".safetensors") { return try ResNetCheckpointLoader.loadTorchvision(file: path) }
        throw ModelError(.unsupportedArchitecture, "\(path): a ResNet loads from an .onnx file, a torchvision .safetensors state dict or a Hugging Face folder")
    }

    /// Runs a batch of preprocessed images, [N, C, H, W] float32 NCHW.
    public func run(_ pixels: Tensor) throws(ModelError) -> ResNetOutput {
        guard pixels.rank == 4, pixels.shape[1] == inputChannels else {
            throw ModelError(.invalidInput, "a ResNet takes [N, \(inputChannels), H, W] pixels, got \(pixels.shape)")
        }
        guard pixels.shape[0] >= 1, pixels.shape[2] >= 1, pixels.shape[3] >= 1 else {
            throw ModelError(.invalidInput, "a ResNet needs at least one image of at least 1x1 pixels, got \(pixels.shape)")
        }
        let (finalHeight, finalWidth) = outputMapSize(height: pixels.shape[2], width: pixels.shape[3])
        guard finalHeight >= 1, finalWidth >= 1 else {
            throw ModelError(.invalidInput, "an image of \(pixels.shape[2])x\(pixels.shape[3]) is too small for this ResNet")
        }
        if case .window(let window, _) = head.pool {
            let pooled = window.outputSize(height: finalHeight, width: finalWidth)
            guard pooled == (1, 1) else {
                throw ModelError(.invalidInput, "this ResNet's \(window.kernel.height)x\(window.kernel.width) average pool needs a final map of that size; an image of \(pixels.shape[2])x\(pixels.shape[3]) gives \(finalHeight)x\(finalWidth)")
            }
        }
        // Layer after layer of Quern kernels and no BLAS call until the head.
        let features = ComputeThreads.keepingThreadsSpinning { ResNetExecution.features(ofBatch: pixels, network: self) }
        let logits = linear(features, weight: head.weight, bias: head.bias)
        return ResNetOutput(logits: logits, probabilities: softmax(logits), features: features)
    }

    /// Runs the network once and returns each step's name and wall time in
    /// seconds (for `quern bench resnet --layers`).
    public func profile(_ pixels: Tensor) throws(ModelError) -> [(step: String, seconds: Double)] {
        _ = try run(pixels)
        var steps: [(step: String, seconds: Double)] = []
        ComputeThreads.keepingThreadsSpinning {
            _ = ResNetExecution.features(of: pixels, network: self) { steps.append(($0, $1)) }
        }
        return steps
    }

    /// Height and width of the last stage's map for an input of the given size.
    func outputMapSize(height: Int, width: Int) -> (Int, Int) {
        let size = mapSize(beforeBlock: blocks.count, height: height, width: width)
        return (size.height, size.width)
    }

    /// Height and width of block `index`'s input (past the last block: the
    /// final map) for an input of the given size.
    func mapSize(beforeBlock index: Int, height: Int, width: Int) -> (height: Int, width: Int) {
        var size = stem.window.outputSize(height: height, width: width)
        if let stemPool { size = stemPool.outputSize(height: size.height, width: size.width) }
        for block in blocks[..<index] {
            for conv in block.branch { size = conv.window.outputSize(height: size.height, width: size.width) }
        }
        return size
    }

    /// The first block whose input map has at most `pixels` pixels, or
    /// `blocks.count` when none has.
    func firstBlock(withMapAtMost pixels: Int, height: Int, width: Int) -> Int {
        blocks.indices.first { index in
            let size = mapSize(beforeBlock: index, height: height, width: width)
            return size.height * size.width <= pixels
        } ?? blocks.count
    }

    /// Channels agree from layer to layer and the shortcut matches the branch.
    private func validate() throws(ModelError) {
        var channels = stem.outputChannels
        for (index, block) in blocks.enumerated() {
            guard !block.branch.isEmpty else { throw ModelError(.invalidConfig, "block \(index) has no convolutions") }
            var branchChannels = channels
            var stride = (1, 1)
            for conv in block.branch {
                guard conv.inputChannels == branchChannels else {
                    throw ModelError(.invalidConfig, "block \(index): a convolution takes \(conv.inputChannels) channels but receives \(branchChannels)")
                }
                branchChannels = conv.outputChannels
                stride = (stride.0 * conv.window.stride.height, stride.1 * conv.window.stride.width)
            }
            if let shortcut = block.shortcut {
                guard shortcut.inputChannels == channels, shortcut.outputChannels == branchChannels,
                      shortcut.window.stride == (stride.0, stride.1), shortcut.window.kernel == (1, 1) else {
                    throw ModelError(.invalidConfig, "block \(index): the projection shortcut does not match its branch (\(channels)→\(branchChannels), stride \(stride))")
                }
            } else {
                guard branchChannels == channels, stride == (1, 1) else {
                    throw ModelError(.invalidConfig, "block \(index): an identity shortcut needs the branch to keep \(channels) channels and stride 1")
                }
            }
            channels = branchChannels
        }
        guard channels == head.features else {
            throw ModelError(.invalidConfig, "the classifier takes \(head.features) features but the last stage gives \(channels)")
        }
    }
}

/// A convolution with BatchNorm folded in, prepared for the NHWC kernels
/// (`PreparedConvolution` picks Winograd for stride-1 3×3, the direct kernel
/// otherwise), and whether a ReLU follows.
struct ResNetConv: Sendable {
    let kernel: PreparedConvolution
    let window: Window2D
    let inputChannels: Int
    let outputChannels: Int
    let relu: Bool

    /// `weight` [O, I, kh, kw] and `bias` [O], BatchNorm already folded.
    init(weight: Tensor, bias: Tensor, window: Window2D, relu: Bool) {
        kernel = PreparedConvolution(weight: weight, bias: bias, window: window)
        self.window = window
        inputChannels = weight.shape[1]
        outputChannels = weight.shape[0]
        self.relu = relu
    }

    private init(kernel: PreparedConvolution, window: Window2D, inputChannels: Int, outputChannels: Int, relu: Bool) {
        self.kernel = kernel
        self.window = window
        self.inputChannels = inputChannels
        self.outputChannels = outputChannels
        self.relu = relu
    }

    func converted(to precision: Precision) -> ResNetConv {
        ResNetConv(kernel: kernel.converted(to: precision), window: window, inputChannels: inputChannels, outputChannels: outputChannels,
                   relu: relu)
    }

    /// Runs on NHWC `x`, adding `residual` (same shape as the output) before the ReLU.
    func callAsFunction(_ x: Tensor, residual: Tensor? = nil, relu: Bool) -> Tensor {
        kernel(x, residual: residual, relu: relu)
    }
}

/// One residual block: out = relu(branch(x) + shortcut(x)). The branch's
/// last convolution has no ReLU of its own; a nil shortcut is the identity.
struct ResNetBlock: Sendable {
    let branch: [ResNetConv]
    let shortcut: ResNetConv?

    var inputChannels: Int { branch[0].inputChannels }
}

/// Pooling and the linear classifier.
struct ResNetHead: Sendable {
    enum Pool: Sendable {
        case global
        /// A fixed average-pool window (ONNX AveragePool) that must cover the final map.
        case window(Window2D, countIncludePad: Bool)
    }

    let pool: Pool
    /// [classes, features]
    let weight: Tensor
    let bias: Tensor

    var classes: Int { weight.shape[0] }
    var features: Int { weight.shape[1] }
}
