import Foundation
import QuernMedia
import QuernTensor
import QuernTestSupport
import Testing

/// Model-exact preprocessing: the open_nsfw wrapper's `fast` path and
/// torchvision's ImageNet transform, bit-identical to Pillow 13 + numpy.
@Suite struct PreprocessingTests {
    @Test(arguments: ImageTestSupport.goodFiles + ImageTestSupport.extremeShapeFiles)
    func openNSFWInputIsBitIdenticalToPillow(_ file: ImageTestSupport.GoodFile) throws {
        let rgb = try PNGDecoder().decode(contentsOf: file.path).convertedToRGB().image
        let prepared = try ImagePreprocessing.openNSFW.apply(to: rgb)
        #expect(prepared.pixels.shape == [3, 224, 224])
        let values = prepared.pixels.scalars
        for (index, expected) in file.inputSamples {
            #expect(values[index] == expected, "value \(index)")
        }
        #expect(ImageTestSupport.sha256(of: prepared.pixels) == file.inputSHA256, "float32 bytes differ from the reference")
    }

    @Test(arguments: (ImageTestSupport.goodFiles + ImageTestSupport.extremeShapeFiles).filter { $0.torchvisionSHA256 != nil })
    func torchvisionInputIsBitIdenticalToPillowAndNumpy(_ file: ImageTestSupport.GoodFile) throws {
        let rgb = try PNGDecoder().decode(contentsOf: file.path).convertedToRGB().image
        let prepared = try ImagePreprocessing.torchvisionImageNet.apply(to: rgb)
        #expect(prepared.pixels.shape == file.torchvisionShape)
        let values = prepared.pixels.scalars
        for (index, expected) in file.torchvisionSamples {
            #expect(values[index] == expected, "value \(index)")
        }
        #expect(ImageTestSupport.sha256(of: prepared.pixels) == file.torchvisionSHA256)
    }

    @Test func resizedSizeFollowsTorchvision() {
        let preset = ImagePreprocessing.torchvisionImageNet
        #expect(preset.resizedSize(width: 300, height: 3) == (25600, 256))
        #expect(preset.resizedSize(width: 160, height: 240) == (256, 384))
        #expect(preset.resizedSize(width: 271, height: 180) == (385, 256))
        #expect(ImagePreprocessing.openNSFW.resizedSize(width: 1, height: 1) == (256, 256))
    }

    @Test func resizeWindowEqualsFullResizeThenCrop() throws {
        let rgb = try PNGDecoder().decode(contentsOf: ImageTestSupport.corpus + "/good/photo-chelsea-rgb.png").convertedToRGB().image
        for filter in ResampleFilter.allCases {
            let full = PillowResize.resize(rgb, width: 100, height: 77, filter: filter)
            let window = PillowResize.Window(columns: 13..<61, rows: 20..<77)
            let part = PillowResize.resize(rgb, width: 100, height: 77, filter: filter, window: window)
            var cropped: [UInt8] = []
            for row in window.rows {
                cropped += full.pixels[(row * 100 + window.columns.lowerBound) * 3 ..< (row * 100 + window.columns.upperBound) * 3]
            }
            #expect(part.pixels == cropped, "\(filter)")
        }
    }

    @Test func extremeAspectRatiosStaySmall() throws {
        // A 20000×1 strip: torchvision's Resize(256) makes it 5,120,000×256
        // virtually; only the 224×224 centre crop is computed.
        let strip = RGBImage(width: 20000, height: 1, pixels: (0..<60000).map { UInt8($0 % 251) })
        let prepared = try ImagePreprocessing.torchvisionImageNet.apply(to: strip)
        #expect(prepared.pixels.shape == [3, 224, 224])
        var uncropped = ImagePreprocessing.torchvisionImageNet
        uncropped.crop = nil
        #expect(throws: MediaError.self) { try uncropped.apply(to: strip) }
    }

    @Test func descriptionRoundTripsThroughJSON() throws {
        for preset in ImagePreprocessing.presets.values {
            let json = try JSONEncoder().encode(preset)
            #expect(try ImagePreprocessing(json: json) == preset)
        }
        let written = Data("""
            {"name": "custom", "resize": {"mode": "shorter_side", "size": 128}, "resample": "bicubic",
             "crop": {"mode": "center", "width": 112, "height": 112, "center_rounding": "floor"},
             "channel_order": "rgb", "rescale": {"mode": "multiply", "factor": 0.00392156862745098},
             "mean": [0.5, 0.5, 0.5], "std": [0.5, 0.5, 0.5]}
            """.utf8)
        let custom = try ImagePreprocessing(json: written)
        #expect(custom.resample == .bicubic && custom.crop?.centerRounding == .floor && custom.resize?.size == 128)
        #expect(throws: MediaError.self) {
            try ImagePreprocessing(json: Data(#"{"name": "x", "resample": "bilinear", "channel_order": "rgb", "mean": [1], "std": [1, 1, 1]}"#.utf8))
        }
    }

    @Test func huggingFaceConvNextConfig() throws {
        let config = Data("""
            {"crop_pct": 0.875, "do_normalize": true, "do_rescale": true, "do_resize": true,
             "image_mean": [0.485, 0.456, 0.406], "image_processor_type": "ConvNextImageProcessor",
             "image_std": [0.229, 0.224, 0.225], "resample": 3, "rescale_factor": 0.00392156862745098,
             "size": {"shortest_edge": 224}}
            """.utf8)
        let preprocessing = try ImagePreprocessing(huggingFaceConfig: config)
        #expect(preprocessing.resize == .shorterSide(256))
        #expect(preprocessing.crop == .center(width: 224, height: 224, rounding: .floor))
        #expect(preprocessing.resample == .bicubic && preprocessing.channelOrder == .rgb)
        #expect(preprocessing.rescale == .init(mode: .multiply, factor: 0.00392156862745098))
        let rgb = try PNGDecoder().decode(contentsOf: ImageTestSupport.corpus + "/good/photo-rocket-rgb.png").convertedToRGB().image
        #expect(try preprocessing.apply(to: rgb).pixels.shape == [3, 224, 224])
    }
}
