import Foundation
import QuernTensor

/// The forward pass of a `ResNet` up to the pooled features. Activations
/// are NHWC inside the network (each tap of a convolution reads contiguous
/// channels, and 1×1 convolutions need no copy); a block's last
/// convolution adds the shortcut and applies the ReLU in its epilogue.
enum ResNetExecution {
    /// Called after each step with its name and wall time in seconds (profiling).
    typealias StepObserver = (String, Double) -> Void

    /// A batch runs one image at a time, so each image's activations stay in
    /// cache from layer to layer. With several compute threads, whole groups
    /// of images run side by side (one per thread, no hand-offs inside the
    /// network); the images left over run one by one with every thread on
    /// each layer.
    static func features(ofBatch pixels: Tensor, network: ResNet) -> Tensor {
        let count = pixels.shape[0], threads = ComputeThreads.count
        let features = Tensor(zeros: [count, network.featureWidth])
        let sideBySide = threads > 1 ? count / threads * threads : 0
        parallelFor(sideBySide, grain: 1) { images in
            for image in images { features.row(image).assign(Self.features(of: pixels.rows(image..<image + 1), network: network)) }
        }
        for image in sideBySide..<count {
            features.row(image).assign(Self.features(of: pixels.rows(image..<image + 1), network: network))
        }
        return features
    }

    static func features(of pixels: Tensor, network: ResNet, observe: StepObserver? = nil) -> Tensor {
        var clock = DispatchTime.now().uptimeNanoseconds
        func step<T>(_ name: @autoclosure () -> String, _ body: () -> T) -> T {
            let value = body()
            if let observe {
                let now = DispatchTime.now().uptimeNanoseconds
                observe(name(), Double(now - clock) / 1e9)
                clock = now
            }
            return value
        }
        var x = step("input NCHW→NHWC") { nchwToNHWC(pixels) }
        x = step(describe("stem", network.stem, x)) { network.stem(x, relu: network.stem.relu) }
        if let pool = network.stemPool { x = step("max pool") { maxPool2dNHWC(x, window: pool) } }
        for (index, block) in network.blocks.enumerated() {
            let identity = block.shortcut.map { shortcut in
                step(describe("block \(index) shortcut", shortcut, x)) { shortcut(x, relu: shortcut.relu) }
            } ?? x
            var y = x
            for (number, conv) in block.branch.enumerated() {
                let last = number == block.branch.count - 1
                y = step(describe("block \(index) conv \(number)", conv, y)) {
                    conv(y, residual: last ? identity : nil, relu: last ? true : conv.relu)
                }
            }
            x = y
        }
        return step("average pool") {
            switch network.head.pool {
            case .global:
                return globalAveragePoolNHWC(x)
            case .window(let window, let countIncludePad):
                return averagePoolSingleWindowNHWC(x, window: window, countIncludePad: countIncludePad)
            }
        }
    }

    private static func describe(_ name: String, _ conv: ResNetConv, _ input: Tensor) -> String {
        let w = conv.window
        return "\(name) \(w.kernel.height)x\(w.kernel.width)/\(w.stride.height) \(conv.inputChannels)→\(conv.outputChannels) @\(input.shape[1])x\(input.shape[2])"
    }
}
