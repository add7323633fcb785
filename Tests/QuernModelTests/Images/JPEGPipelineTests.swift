import Foundation
import QuernMedia
import QuernModels
import QuernPipelines
import QuernTensor
import QuernTestSupport
import Testing

/// Real-size JPEG photos (baseline, progressive, 4:4:4, EXIF orientation 6,
/// CMYK, grayscale) through the image pipeline against ONNX Runtime's
/// open_nsfw on Pillow's decode (scripts/make-jpeg-corpus.py): Pillow's RGB
/// bytes and the float32 model input bit for bit, probabilities within 1e-5,
/// features within 1e-5 relative — the same bars as the PNG corpus.
@Suite(.serialized) struct JPEGPipelineTests {
    static let context = PipelineContext(deadline: .now + .seconds(600))

    static func job(_ path: String) throws -> Job {
        Job(request: .classify(image: [UInt8](try Data(contentsOf: URL(fileURLWithPath: path))), topK: 2, threshold: nil))
    }

    @Test func photosAreTheSixOfTheCorpus() {
        #expect(JPEGTestSupport.photoFiles.count == 6)
    }

    @Test func photosMatchONNXRuntimeOnPillowsDecode() async throws {
        let pipeline = try OpenNSFWGoldenTests.requirePipeline()
        let files = JPEGTestSupport.photoFiles
        let prepared = try files.map { try pipeline.prepare(try Self.job($0.path)) }
        let results = try await pipeline.run(prepared, context: Self.context)
        var worstProbability: Float = 0, worstFeature: Float = 0
        for ((file, item), result) in zip(zip(files, prepared), results) {
            let rgb = try JPEGDecoder().decode(contentsOf: file.path).convertedToRGB().image
            #expect(ImageTestSupport.sha256(of: rgb.pixels) == file.rgbSHA256, "\(file.file): RGB differs from Pillow's")
            #expect(ImageTestSupport.sha256(of: item.pixels) == file.inputSHA256, "\(file.file): model input differs")
            guard case let .classification(output) = try result.get() else { Issue.record("\(file.file): not a classification"); continue }
            var probabilities = [Float](repeating: 0, count: 2)
            for label in output.labels { probabilities[label.index] = label.score }
            let probabilityError = zip(probabilities, file.probabilities).map { abs($0 - $1) }.max() ?? .infinity
            worstProbability = max(worstProbability, probabilityError)
            #expect(probabilityError <= 1e-5, "\(file.file): probabilities \(probabilities) vs \(file.probabilities)")
            let scale = file.featuresPrefix.map(abs).max() ?? 1
            let featureError = zip(output.features.prefix(file.featuresPrefix.count), file.featuresPrefix).map { abs($0 - $1) }.max() ?? .infinity
            worstFeature = max(worstFeature, featureError / scale)
            #expect(featureError / scale <= 1e-5, "\(file.file): features differ by \(featureError)")
            let norm = output.features.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
            #expect(abs(norm - file.featuresNorm) / file.featuresNorm <= 1e-5, "\(file.file): feature norm")
            #expect(output.image?.format == "jpeg")
        }
        print("open_nsfw on JPEG photos vs ONNX Runtime over \(files.count) files: max |Δp| \(worstProbability), max relative Δfeature \(worstFeature)")
    }

    @Test func resultStatesTheFormatAndTheTurn() async throws {
        let pipeline = try OpenNSFWGoldenTests.requirePipeline()
        let turned = try pipeline.prepare(try Self.job(JPEGTestSupport.photos + "/chelsea-orientation-6.jpg"))
        #expect(turned.image == ClassificationOutput.ImageFacts(
            format: "jpeg", width: 300, height: 451, colorType: "rgb", bitDepth: 8, interlaced: false, transparency: false))
        #expect(turned.steps.contains("EXIF orientation 6: ROTATE_270"), "\(turned.steps)")
        #expect(turned.steps.contains("resized 451×300 to 256×256 (Pillow bilinear)"), "\(turned.steps)")
        let cmyk = try pipeline.prepare(try Self.job(JPEGTestSupport.photos + "/astronaut-cmyk.jpg"))
        #expect(cmyk.image.colorType == "cmyk")
        #expect(cmyk.steps.contains("CMYK converted to RGB (Pillow cmyk2rgb)"))
        let progressive = try pipeline.prepare(try Self.job(JPEGTestSupport.photos + "/coffee-600x400-progressive.jpg"))
        #expect(progressive.image.interlaced)
    }

    /// Broken JPEGs are error results with the decoder's codes, through the
    /// pipeline; bytes that do not start FF D8 FF are not recognised as a JPEG at all.
    @Test(arguments: JPEGTestSupport.brokenFiles)
    func brokenJPEGIsAnErrorResult(_ file: JPEGTestSupport.BrokenFile) throws {
        let pipeline = try OpenNSFWGoldenTests.requirePipeline()
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: file.path)))
        let decoderCode: ErrorCode = switch file.code {
        case "media.too_large": .inputTooLarge
        case "media.unsupported": .unsupported
        default: .inputCorrupt
        }
        let expected = JPEGProbe.matches(bytes) ? decoderCode : .inputUnrecognized
        do {
            _ = try pipeline.prepare(Job(request: .classify(image: bytes, topK: nil, threshold: nil)))
            Issue.record("\(file.file) (\(file.about)) was accepted")
        } catch let error as QuernError {
            #expect(error.code == expected, "\(file.about): \(error.message)")
        }
    }
}
