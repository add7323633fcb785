import Foundation
import QuernJSON

extension ImagePreprocessing {
    /// The preprocessing of a Hugging Face image processor's
    /// `preprocessor_config.json`, as its Pillow-based ("slow") processor
    /// runs it: resize (`size.shortest_edge`, with ConvNeXt/ResNet's
    /// `crop_pct` rule, or `size.height`/`size.width`), optional centre crop
    /// (`crop_size`, offsets rounded down), `rescale_factor`, `image_mean`/`image_std`.
    public init(huggingFaceConfig data: Data) throws(MediaError) {
        let config: HuggingFaceImageProcessorConfig
        do {
            config = try JSONParser.parse([UInt8](data)).decode(HuggingFaceImageProcessorConfig.self)
        } catch {
            throw MediaError(.unsupported, "invalid preprocessor_config.json: \(error)")
        }
        let filter: ResampleFilter
        if let code = config.resample {
            guard let known = ResampleFilter(pillowCode: code) else {
                throw MediaError(.unsupported, "preprocessor_config.json: resample \(code) is not a convolution filter Quern implements")
            }
            filter = known
        } else {
            filter = .bilinear
        }
        var resize: Resize?
        var crop: Crop?
        if config.doResize ?? true, let size = config.size {
            if let shortest = size.shortestEdge {
                if let cropFraction = config.cropPct {
                    // ConvNeXt's rule: below 384 resize to shortest/crop_pct, then crop the square.
                    if shortest < 384 {
                        resize = .shorterSide(Int(Double(shortest) / cropFraction))
                        crop = .center(width: shortest, height: shortest, rounding: .floor)
                    } else {
                        resize = .exact(width: shortest, height: shortest)
                    }
                } else {
                    resize = .shorterSide(shortest)
                }
            } else if let height = size.height, let width = size.width {
                resize = .exact(width: width, height: height)
            } else {
                throw MediaError(.unsupported, "preprocessor_config.json: size needs shortest_edge or height and width")
            }
        }
        if config.doCenterCrop ?? false, let cropSize = config.cropSize {
            guard let height = cropSize.height, let width = cropSize.width else {
                throw MediaError(.unsupported, "preprocessor_config.json: crop_size needs height and width")
            }
            crop = .center(width: width, height: height, rounding: .floor)
        }
        let rescale = (config.doRescale ?? true) ? Rescale(mode: .multiply, factor: config.rescaleFactor ?? 1.0 / 255.0) : nil
        let normalize = config.doNormalize ?? true
        let mean = normalize ? (config.imageMean ?? [0.485, 0.456, 0.406]).map(Float.init) : [0, 0, 0]
        let std = normalize ? (config.imageStd ?? [0.229, 0.224, 0.225]).map(Float.init) : [1, 1, 1]
        self.init(name: "huggingface_\(config.imageProcessorType ?? "image_processor")", resize: resize,
                  resample: filter, crop: crop, channelOrder: .rgb, rescale: rescale, mean: mean, std: std)
        try validate()
    }
}

/// The fields of `preprocessor_config.json` that decide the pixels.
private struct HuggingFaceImageProcessorConfig: Decodable {
    struct Size: Decodable {
        var shortestEdge: Int?
        var height: Int?
        var width: Int?
        enum CodingKeys: String, CodingKey {
            case shortestEdge = "shortest_edge", height, width
        }
    }
    var imageProcessorType: String?
    var doResize: Bool?
    var size: Size?
    var resample: Int?
    var cropPct: Double?
    var doCenterCrop: Bool?
    var cropSize: Size?
    var doRescale: Bool?
    var rescaleFactor: Double?
    var doNormalize: Bool?
    var imageMean: [Double]?
    var imageStd: [Double]?

    enum CodingKeys: String, CodingKey {
        case imageProcessorType = "image_processor_type", doResize = "do_resize", size, resample
        case cropPct = "crop_pct", doCenterCrop = "do_center_crop", cropSize = "crop_size"
        case doRescale = "do_rescale", rescaleFactor = "rescale_factor"
        case doNormalize = "do_normalize", imageMean = "image_mean", imageStd = "image_std"
    }
}
