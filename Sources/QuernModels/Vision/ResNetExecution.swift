import Foundation
import QuernTensor

/// The forward pass of a `ResNet` up to the pooled features. Activations
/// are NHWC inside the network (each tap of a convolution reads contiguous
/// channels, and 1×1 convolutions need no copy); a block's last
/// convolution adds the shortcut and applies the ReLU in its epilogue.
enum ResNetExecution {
    /// Called after each step with its name and wall time in seconds (profiling).
    typealias StepObserver = (String, Double) -> Void

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
        var x = step("input NCHW→NHWC") { permute(pixels, [0, 2, 3, 1]) }
        x = step(describe("stem", network.stem, x)) { conv2dNHWC(x, network.stem.packed, relu: network.stem.relu) }
        if let pool = network.stemPool { x = step("max pool") { maxPool2dNHWC(x, window: pool) } }
        for (index, block) in network.blocks.enumerated() {
            let identity = block.shortcut.map { shortcut in
                step(describe("block \(index) shortcut", shortcut, x)) { conv2dNHWC(x, shortcut.packed, relu: shortcut.relu) }
            } ?? x
            var y = x
            for (number, conv) in block.branch.enumerated() {
                let last = number == block.branch.count - 1
                y = step(describe("block \(index) conv \(number)", conv, y)) {
                    conv2dNHWC(y, conv.packed, residual: last ? identity : nil, relu: last ? true : conv.relu)
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
