import Foundation
import QuernJSON

/// How a model wants its input pixels, described by data: resize, crop,
/// channel order, rescale and per-channel normalisation, applied to 8-bit RGB
/// in that order. Loadable from JSON (`ImagePreprocessing(json:)`, the keys
/// shown in `presets`), from a Hugging Face `preprocessor_config.json`
/// (`ImagePreprocessing(huggingFaceConfig:)`), or taken from a preset.
public struct ImagePreprocessing: Sendable, Codable, Equatable {
    public struct Resize: Sendable, Codable, Equatable {
        public enum Mode: String, Sendable, Codable {
            /// Exactly `width × height`, aspect ratio not kept.
            case exact
            /// The shorter side becomes `size`, the longer `Int(size × long / short)`
            /// (torchvision's `Resize(size)` and Hugging Face's `shortest_edge`).
            case shorterSide = "shorter_side"
        }
        public var mode: Mode
        public var width: Int?
        public var height: Int?
        public var size: Int?

        public static func exact(width: Int, height: Int) -> Resize {
            Resize(mode: .exact, width: width, height: height, size: nil)
        }
        public static func shorterSide(_ size: Int) -> Resize {
            Resize(mode: .shorterSide, width: nil, height: nil, size: size)
        }
    }

    public struct Crop: Sendable, Codable, Equatable {
        public enum Mode: String, Sendable, Codable {
            /// Pillow's `crop((left, top, right, bottom))`.
            case box
            /// A `width × height` window in the middle.
            case center
        }
        /// How a centre offset of x.5 pixels is settled.
        public enum CenterRounding: String, Sendable, Codable {
            /// torchvision: `int(round((size - crop) / 2))`, Python's round half to even.
            case halfToEven = "half_to_even"
            /// Hugging Face: `(size - crop) // 2`.
            case floor
        }
        public var mode: Mode
        public var left: Int?
        public var top: Int?
        public var right: Int?
        public var bottom: Int?
        public var width: Int?
        public var height: Int?
        public var centerRounding: CenterRounding?

        enum CodingKeys: String, CodingKey {
            case mode, left, top, right, bottom, width, height
            case centerRounding = "center_rounding"
        }

        public static func box(left: Int, top: Int, right: Int, bottom: Int) -> Crop {
            Crop(mode: .box, left: left, top: top, right: right, bottom: bottom)
        }
        public static func center(width: Int, height: Int, rounding: CenterRounding = .halfToEven) -> Crop {
            Crop(mode: .center, width: width, height: height, centerRounding: rounding)
        }
    }

    public enum ChannelOrder: String, Sendable, Codable { case rgb, bgr }

    /// Applied to each 8-bit value before normalisation.
    public struct Rescale: Sendable, Codable, Equatable {
        public enum Mode: String, Sendable, Codable {
            /// `Float(value) / factor` in Float32 (torchvision's ToTensor: ÷255).
            case divide
            /// `Float(Double(value) × factor)` (Hugging Face's rescale, in float64).
            case multiply
        }
        public var mode: Mode
        public var factor: Double
        public init(mode: Mode, factor: Double) {
            self.mode = mode
            self.factor = factor
        }
    }

    /// A short name for results, e.g. `open_nsfw`.
    public var name: String
    public var resize: Resize?
    public var resample: ResampleFilter
    public var crop: Crop?
    public var channelOrder: ChannelOrder
    public var rescale: Rescale?
    /// Per output channel (after `channelOrder`): `(value − mean) / std` in Float32.
    public var mean: [Float]
    public var std: [Float]

    enum CodingKeys: String, CodingKey {
        case name, resize, resample, crop, mean, std, rescale
        case channelOrder = "channel_order"
    }

    public init(name: String, resize: Resize?, resample: ResampleFilter = .bilinear, crop: Crop?,
                channelOrder: ChannelOrder, rescale: Rescale?, mean: [Float], std: [Float]) {
        self.name = name
        self.resize = resize
        self.resample = resample
        self.crop = crop
        self.channelOrder = channelOrder
        self.rescale = rescale
        self.mean = mean
        self.std = std
    }

    /// Decodes the JSON form (the keys of `CodingKeys`) and checks it.
    public init(json: Data) throws(MediaError) {
        let decoded: ImagePreprocessing
        do {
            decoded = try JSONParser.parse([UInt8](json)).decode(ImagePreprocessing.self)
        } catch {
            throw MediaError(.unsupported, "invalid preprocessing description: \(error)")
        }
        try decoded.validate()
        self = decoded
    }

    /// Refuses descriptions that cannot be applied (missing sizes, wrong
    /// channel counts, zero std), so `apply` never meets them.
    public func validate() throws(MediaError) {
        func refuse(_ why: String) -> MediaError { MediaError(.unsupported, "preprocessing \(name): \(why)") }
        if let resize {
            switch resize.mode {
            case .exact:
                guard let width = resize.width, let height = resize.height, width > 0, height > 0, width <= 16384, height <= 16384
                else { throw refuse("exact resize needs width and height in 1…16384") }
            case .shorterSide:
                guard let size = resize.size, size > 0, size <= 16384 else { throw refuse("shorter_side resize needs size in 1…16384") }
            }
        }
        if let crop {
            switch crop.mode {
            case .box:
                guard let left = crop.left, let top = crop.top, let right = crop.right, let bottom = crop.bottom,
                      left >= 0, top >= 0, right > left, bottom > top
                else { throw refuse("box crop needs 0 ≤ left < right and 0 ≤ top < bottom") }
            case .center:
                guard let width = crop.width, let height = crop.height, width > 0, height > 0
                else { throw refuse("center crop needs a positive width and height") }
            }
        }
        guard mean.count == 3, std.count == 3 else { throw refuse("mean and std need 3 values") }
        guard std.allSatisfy({ $0 != 0 && $0.isFinite }), mean.allSatisfy(\.isFinite) else { throw refuse("std must be non-zero") }
        if let rescale, !(rescale.factor.isFinite && rescale.factor != 0) { throw refuse("rescale factor must be non-zero") }
    }
}

extension ImagePreprocessing {
    /// open_nsfw's wrapper in its `fast` mode: Pillow BILINEAR to exactly
    /// 256×256, crop [16, 240) on both axes, BGR, minus (104, 117, 123), no
    /// scaling, no JPEG round trip.
    public static let openNSFW = ImagePreprocessing(
        name: "open_nsfw", resize: .exact(width: 256, height: 256), resample: .bilinear,
        crop: .box(left: 16, top: 16, right: 240, bottom: 240), channelOrder: .bgr, rescale: nil,
        mean: [104, 117, 123], std: [1, 1, 1])

    /// torchvision's ImageNet evaluation transform: Resize(256) (shorter
    /// side, Pillow BILINEAR), CenterCrop(224), ToTensor (÷255), Normalize.
    public static let torchvisionImageNet = ImagePreprocessing(
        name: "torchvision_imagenet", resize: .shorterSide(256), resample: .bilinear,
        crop: .center(width: 224, height: 224, rounding: .halfToEven), channelOrder: .rgb,
        rescale: Rescale(mode: .divide, factor: 255),
        mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225])

    /// The presets by name, for configuration files and the command line.
    public static let presets: [String: ImagePreprocessing] = [
        openNSFW.name: openNSFW,
        torchvisionImageNet.name: torchvisionImageNet,
    ]
}
