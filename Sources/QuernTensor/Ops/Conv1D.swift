/// A 1-D convolution over time-major signals ([time, channels], the layout
/// transformer stacks use), as one GEMM.
///
/// The weight [out, in, kernel] (PyTorch's Conv1d layout) is repacked once to
/// [out, kernel · in], so that the unfolded input row of output step t is
/// just the `kernel` input rows t·stride − padding … laid end to end:
/// unfolding copies whole rows instead of gathering single values.
public struct TimeMajorConv1D: @unchecked Sendable {
    public let outputChannels: Int
    public let inputChannels: Int
    public let kernel: Int
    public let stride: Int
    public let padding: Int
    /// [out, kernel · in], tap-major.
    let packedWeight: Tensor
    let bias: Tensor?

    public init(weight: Tensor, bias: Tensor?, stride: Int = 1, padding: Int = 0) {
        precondition(weight.rank == 3 && stride >= 1 && padding >= 0, "conv1d takes a [out, in, kernel] weight, stride ≥ 1, padding ≥ 0")
        outputChannels = weight.shape[0]
        inputChannels = weight.shape[1]
        kernel = weight.shape[2]
        self.stride = stride
        self.padding = padding
        precondition(bias.map { $0.count == weight.shape[0] } ?? true, "conv1d bias needs \(weight.shape[0]) values")
        self.bias = bias
        let packed = Tensor(zeros: [outputChannels, kernel * inputChannels])
        let (o, i, k) = (outputChannels, inputChannels, kernel)
        weight.withPointer { w in
            packed.withMutablePointer { p in
                for out in 0..<o {
                    for tap in 0..<k {
                        for channel in 0..<i { p[out * k * i + tap * i + channel] = w[(out * i + channel) * k + tap] }
                    }
                }
            }
        }
        packedWeight = packed
    }

    public func outputLength(_ inputLength: Int) -> Int {
        max(0, (inputLength + 2 * padding - kernel) / stride + 1)
    }

    /// x [time, in] → [outputLength(time), out].
    public func callAsFunction(_ x: Tensor) -> Tensor {
        precondition(x.rank == 2 && x.shape[1] == inputChannels, "conv1d: input \(x.shape) is not [time, \(inputChannels)]")
        let time = x.shape[0], steps = outputLength(time)
        let unfolded = Tensor(zeros: [steps, kernel * inputChannels])
        let (c, k, s, p) = (inputChannels, kernel, stride, padding)
        x.withPointer { source in
            unfolded.withMutablePointer { target in
                parallelFor(steps, grain: 64) { range in
                    for step in range {
                        for tap in 0..<k {
                            let t = step * s + tap - p
                            guard t >= 0 && t < time else { continue }  // zero padding stays 0
                            (target + (step * k + tap) * c).update(from: source + t * c, count: c)
                        }
                    }
                }
            }
        }
        return linear(unfolded, weight: packedWeight, bias: bias)
    }
}
