import QuernTensor

/// The forward pass of a `ResNet` up to the pooled features.
enum ResNetExecution {
    static func features(of pixels: Tensor, network: ResNet) -> Tensor {
        var x = convolve(pixels, network.stem)
        if let pool = network.stemPool { x = maxPool2d(x, window: pool) }
        for block in network.blocks {
            let identity = block.shortcut.map { convolve(x, $0) } ?? x
            var y = x
            for conv in block.branch { y = convolve(y, conv) }
            addInPlace(y, identity)
            reluInPlace(y)
            x = y
        }
        switch network.head.pool {
        case .global:
            return globalAveragePool(x)
        case .window(let window, let countIncludePad):
            let pooled = avgPool2d(x, window: window, countIncludePad: countIncludePad)
            return pooled.reshaped([pooled.shape[0], pooled.shape[1]])
        }
    }

    static func convolve(_ x: Tensor, _ conv: ResNetConv) -> Tensor {
        let y = conv2d(x, weight: conv.weight, bias: conv.bias, window: conv.window)
        if conv.relu { reluInPlace(y) }
        return y
    }

    static func addInPlace(_ y: Tensor, _ other: Tensor) {
        y.withMutablePointer { out in
            other.withPointer { add in
                parallelFor(y.count, grain: 1 << 14) { range in
                    for i in range { out[i] += add[i] }
                }
            }
        }
    }
}
