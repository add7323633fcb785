import Foundation
import QuernTensor

/// The forward pass of a `ResNet` up to the pooled features. Activations
/// are NHWC inside the network (each tap of a convolution reads contiguous
/// channels, and 1×1 convolutions need no copy); a block's last
/// convolution adds the shortcut and applies the ReLU in its epilogue.
enum ResNetExecution {
    /// Called after each step with its name and wall time in seconds (profiling).
    typealias StepObserver = (String, Double) -> Void

    /// Once a block's input map has at most this many pixels (the last two
    /// stages of a 224-pixel ResNet: 14×14 and 7×7), the batch's images run
    /// through the remaining blocks together. Per image, such a map is a
    /// few register tiles for each weight panel, so every image would
    /// stream the stages' megabytes of weights again; together they share
    /// one pass, and their activations still fit in L3. (open_nsfw, batch 8,
    /// 1 thread: 0.92× ONNX Runtime split at 7×7, 0.98× at 14×14, 0.93× at 28×28.)
    static let batchedMapPixels = 196

    /// The early layers run one image at a time, so each image's large
    /// activations stay in cache from layer to layer. With several compute
    /// threads, whole groups of images run side by side (one per thread, no
    /// hand-offs inside the network); the images left over run one by one
    /// with every thread on each layer. The blocks on small maps then run
    /// on the whole batch (`batchedMapPixels`). Every output value is computed
    /// the same way either way, so a batch's results equal one-by-one runs.
    static func features(ofBatch pixels: Tensor, network: ResNet) -> Tensor {
        let count = pixels.shape[0], threads = ComputeThreads.count
        if count == 1 { return features(of: pixels, network: network) }
        let split = network.firstBlock(withMapAtMost: batchedMapPixels, height: pixels.shape[2], width: pixels.shape[3])
        let mapSize = network.mapSize(beforeBlock: split, height: pixels.shape[2], width: pixels.shape[3])
        let channels = split < network.blocks.count ? network.blocks[split].inputChannels : network.featureWidth
        let early = Tensor(zeros: [count, mapSize.height, mapSize.width, channels])
        let sideBySide = threads > 1 ? count / threads * threads : 0
        parallelFor(sideBySide, grain: 1) { images in
            for image in images { early.row(image).assign(Self.activation(of: pixels.rows(image..<image + 1), network: network, blocks: 0..<split)) }
        }
        for image in sideBySide..<count {
            early.row(image).assign(Self.activation(of: pixels.rows(image..<image + 1), network: network, blocks: 0..<split))
        }
        return pool(run(early, blocks: split..<network.blocks.count, of: network), network: network)
    }

    /// One image (or a batch) from the pixels to the pooled features.
    static func features(of pixels: Tensor, network: ResNet, observe: StepObserver? = nil) -> Tensor {
        var clock = DispatchTime.now().uptimeNanoseconds
        let step: Step = { name, body in
            let value = body()
            if let observe {
                let now = DispatchTime.now().uptimeNanoseconds
                observe(name(), Double(now - clock) / 1e9)
                clock = now
            }
            return value
        }
        let x = activation(of: pixels, network: network, blocks: 0..<network.blocks.count, step: step)
        return step({ "average pool" }) { pool(x, network: network) }
    }

    private typealias Step = (_ name: () -> String, _ body: () -> Tensor) -> Tensor
    private static let unobserved: Step = { _, body in body() }

    /// NCHW `pixels` through the stem and `blocks` → NHWC.
    private static func activation(of pixels: Tensor, network: ResNet, blocks: Range<Int>, step: Step = unobserved) -> Tensor {
        var x = step({ "input NCHW→NHWC" }) { nchwToNHWC(pixels) }
        x = step({ describe("stem", network.stem, x) }) { network.stem(x, relu: network.stem.relu) }
        if let pool = network.stemPool { x = step({ "max pool" }) { maxPool2dNHWC(x, window: pool) } }
        return run(x, blocks: blocks, of: network, step: step)
    }

    private static func run(_ input: Tensor, blocks: Range<Int>, of network: ResNet, step: Step = unobserved) -> Tensor {
        var x = input
        for index in blocks {
            let block = network.blocks[index]
            let identity = block.shortcut.map { shortcut in
                step({ describe("block \(index) shortcut", shortcut, x) }) { shortcut(x, relu: shortcut.relu) }
            } ?? x
            var y = x
            for (number, conv) in block.branch.enumerated() {
                let last = number == block.branch.count - 1
                y = step({ describe("block \(index) conv \(number)", conv, y) }) {
                    conv(y, residual: last ? identity : nil, relu: last ? true : conv.relu)
                }
            }
            x = y
        }
        return x
    }

    private static func pool(_ x: Tensor, network: ResNet) -> Tensor {
        switch network.head.pool {
        case .global:
            return globalAveragePoolNHWC(x)
        case .window(let window, let countIncludePad):
            return averagePoolSingleWindowNHWC(x, window: window, countIncludePad: countIncludePad)
        }
    }

    private static func describe(_ name: String, _ conv: ResNetConv, _ input: Tensor) -> String {
        let w = conv.window
        return "\(name) \(w.kernel.height)x\(w.kernel.width)/\(w.stride.height) \(conv.inputChannels)→\(conv.outputChannels) @\(input.shape[1])x\(input.shape[2])"
    }
}
