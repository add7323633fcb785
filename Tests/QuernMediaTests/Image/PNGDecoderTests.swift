import Foundation
import QuernMedia
import QuernTestSupport
import Testing

/// The PNG decoder and its Pillow-exact RGB conversion over the generated
/// corpus: every variant decodes whole and converts to exactly Pillow's
/// bytes; every damaged file is an error with the expected kind.
@Suite struct PNGDecoderTests {
    @Test func corpusIsPresent() {
        #expect(ImageTestSupport.goodFiles.count >= 40)
        #expect(ImageTestSupport.brokenFiles.count >= 25)
        #expect(ImageTestSupport.extremeShapeFiles.count >= 9)
    }

    @Test(arguments: ImageTestSupport.goodFiles + ImageTestSupport.extremeShapeFiles)
    func goodFileConvertsLikePillow(_ file: ImageTestSupport.GoodFile) throws {
        let decoded = try PNGDecoder().decode(contentsOf: file.path)
        #expect(decoded.width == file.width && decoded.height == file.height)
        let rgb = decoded.convertedToRGB()
        #expect(ImageTestSupport.sha256(of: rgb.image.pixels) == file.rgbSHA256, "RGB bytes differ from Pillow's convert(\"RGB\")")
        #expect(decoded.warnings.isEmpty, "libpng warned: \(decoded.warnings)")
    }

    @Test func headerFactsAreReported() throws {
        let decoder = PNGDecoder()
        let gray16 = try decoder.decode(contentsOf: ImageTestSupport.corpus + "/good/gray16-trns-adam7.png")
        #expect(gray16.colorType == .gray && gray16.bitDepth == 16 && gray16.interlaced && gray16.hasTransparencyChunk)
        #expect(gray16.convertedToRGB().steps.contains("16-bit gray clipped to 255 (Pillow I;16 to RGB)"))
        let palette = try decoder.decode(contentsOf: ImageTestSupport.corpus + "/good/palette2-trns.png")
        #expect(palette.colorType == .palette && palette.bitDepth == 2 && !palette.interlaced && palette.hasTransparency)
        #expect(palette.paletteEntries == 4)
        let rgba = try decoder.decode(contentsOf: ImageTestSupport.corpus + "/good/rgba16-adam7.png")
        #expect(rgba.colorType == .rgba && rgba.bytesPerSample == 2 && rgba.channels == 4)
        #expect(rgba.convertedToRGB().steps.contains("alpha dropped (not composited)"))
        #expect(rgba.convertedToRGB().steps.contains("16-bit reduced to 8 (high byte)"))
        let gray1 = try decoder.decode(contentsOf: ImageTestSupport.corpus + "/good/gray1.png")
        #expect(gray1.colorType == .gray && gray1.bitDepth == 1 && gray1.channels == 1 && !gray1.hasTransparency)
    }

    @Test(arguments: ImageTestSupport.brokenFiles)
    func brokenFileIsAnError(_ file: ImageTestSupport.BrokenFile) throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: file.path))
        do {
            let decoded = try PNGDecoder().decode(data)
            Issue.record("\(file.file) (\(file.why)) decoded as \(decoded.width)×\(decoded.height)")
        } catch {
            #expect(error.code == file.code, "\(file.why): \(error)")
        }
    }

    @Test func pixelLimitIsCheckedBeforeDecoding() throws {
        let path = ImageTestSupport.corpus + "/good/rgb8.png"  // 37 × 29 = 1073 pixels
        #expect(throws: MediaError.self) { try PNGDecoder(maximumPixels: 1072).decode(contentsOf: path) }
        do {
            _ = try PNGDecoder(maximumPixels: 1072).decode(contentsOf: path)
        } catch {
            #expect(error.kind == .tooLarge)
        }
        #expect(try PNGDecoder(maximumPixels: 1073).decode(contentsOf: path).width == 37)
    }

    @Test func everyTruncationOfAFileIsAnError() throws {
        // Cutting a good file anywhere must never crash or yield an image.
        let data = try Data(contentsOf: URL(fileURLWithPath: ImageTestSupport.corpus + "/good/rgb8-adam7.png"))
        for length in stride(from: 0, to: data.count, by: 7) {
            #expect(throws: MediaError.self) { try PNGDecoder().decode(data.prefix(length)) }
        }
    }

    @Test func randomDamageToEveryVariantIsAnError() throws {
        // Deterministic pseudo-random byte changes (1–4 per copy) anywhere
        // after the signature of every good file: CRCs cover every chunk, so
        // each damaged copy must fail cleanly, whatever the variant.
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next() -> Int {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Int(truncatingIfNeeded: state >> 33)
        }
        for file in ImageTestSupport.goodFiles where !file.file.hasPrefix("photo-") {
            let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: file.path)))
            for _ in 0..<25 {
                var damaged = bytes
                for _ in 0...(next() % 4) {
                    let position = 8 + next() % (bytes.count - 8)
                    damaged[position] ^= UInt8(1 + next() % 255)
                }
                #expect(throws: MediaError.self, "\(file.file)") { try PNGDecoder().decode(damaged) }
            }
        }
    }

    @Test func everySingleBitFlipIsAnError() throws {
        // CRCs and Adler-32 cover every byte after the signature, so a flipped
        // bit anywhere is an error — strict mode leaves no byte unchecked.
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: ImageTestSupport.corpus + "/good/palette4-adam7.png")))
        for position in 8..<bytes.count {
            var damaged = bytes
            damaged[position] ^= 0x10
            #expect(throws: MediaError.self, "flip at byte \(position)") { try PNGDecoder().decode(damaged) }
        }
    }
}
