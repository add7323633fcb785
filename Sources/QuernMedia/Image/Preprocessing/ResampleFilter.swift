import Foundation

/// Pillow's resampling filters (`PIL.Image.Resampling`), as used by its
/// convolution resampler. Pillow's integer codes: NEAREST 0 is not a
/// convolution and is not offered; BOX 4, BILINEAR 2, HAMMING 5, BICUBIC 3,
/// LANCZOS 1.
public enum ResampleFilter: String, Sendable, Codable, CaseIterable {
    case box, bilinear, hamming, bicubic, lanczos

    /// The filter for one of Pillow's integer codes (as in Hugging Face's
    /// `preprocessor_config.json` "resample").
    public init?(pillowCode: Int) {
        switch pillowCode {
        case 1: self = .lanczos
        case 2: self = .bilinear
        case 3: self = .bicubic
        case 4: self = .box
        case 5: self = .hamming
        default: return nil
        }
    }

    /// Half-width of the filter at scale 1, in source pixels.
    var support: Double {
        switch self {
        case .box: 0.5
        case .bilinear, .hamming: 1.0
        case .bicubic: 2.0
        case .lanczos: 3.0
        }
    }

    /// The kernel's weight at distance `x` (in source pixels at scale 1).
    /// Constants and operation order follow Pillow's Resample.c, because the
    /// weights are then rounded to fixed point and every bit counts.
    func weight(_ x: Double) -> Double {
        switch self {
        case .box:
            return x > -0.5 && x <= 0.5 ? 1.0 : 0.0
        case .bilinear:
            let distance = abs(x)
            return distance < 1.0 ? 1.0 - distance : 0.0
        case .hamming:
            let distance = abs(x)
            if distance == 0.0 { return 1.0 }
            if distance >= 1.0 { return 0.0 }
            let angle = distance * Double.pi
            // Pillow writes 0.54f and 0.46f: single-precision constants.
            return sin(angle) / angle * (Double(Float(0.54)) + Double(Float(0.46)) * cos(angle))
        case .bicubic:
            let a = -0.5
            let distance = abs(x)
            if distance < 1.0 { return ((a + 2.0) * distance - (a + 3.0)) * distance * distance + 1 }
            if distance < 2.0 { return (((distance - 5) * distance + 8) * distance - 4) * a }
            return 0.0
        case .lanczos:
            guard -3.0 <= x && x < 3.0 else { return 0.0 }
            return Self.sinc(x) * Self.sinc(x / 3)
        }
    }

    private static func sinc(_ x: Double) -> Double {
        if x == 0.0 { return 1.0 }
        let angle = x * Double.pi
        return sin(angle) / angle
    }
}
