import QuernTensor
import Testing

/// The framing and power-spectrum ops of Whisper's log-mel front end, on
/// values small enough to check by hand.
struct SignalFramesTests {
    @Test func framesAreCentredOnTheirHopAndReflectPaddedAtTheEnds() {
        let samples: [Float] = (0..<10).map(Float.init)
        // Zero-extended to 12, then reflect-padded by 2 on both sides.
        let frames = reflectPaddedFrames(samples, paddedLength: 12, frameLength: 4, hop: 3, frameCount: 4, layout: .plain)
        #expect(frames.shape == [4, 4])
        #expect(frames.scalars == [2, 1, 0, 1, 1, 2, 3, 4, 4, 5, 6, 7, 7, 8, 9, 0])
        let folded = reflectPaddedFrames(samples, paddedLength: 12, frameLength: 4, hop: 3, frameCount: 2, layout: .foldedAboutCentre)
        // [x0, x1 + x3, x2, x1 − x3] of [2, 1, 0, 1] and [1, 2, 3, 4].
        #expect(folded.scalars == [2, 2, 0, 0, 1, 6, 3, -2])
        #expect(reflectPaddedFrames(samples, paddedLength: 10, frameLength: 4, hop: 3, frameCount: 0, layout: .plain).shape == [0, 4])
    }

    @Test func reflectionFollowsNumpy() {
        #expect(reflectIndex(-1, length: 5) == 1 && reflectIndex(5, length: 5) == 3)
        #expect(reflectIndex(-9, length: 3) == 1 && reflectIndex(7, length: 1) == 0)
    }

    @Test func powerSpectrumSumsSquaredRealAndImaginaryParts() throws {
        let spectrum = try Tensor(shape: [2, 4], values: [1, 2, 3, 4, -1, 0, 0.5, 2])
        #expect(powerSpectrum(realThenImaginary: spectrum).scalars == [10, 20, 1.25, 4])
    }
}
