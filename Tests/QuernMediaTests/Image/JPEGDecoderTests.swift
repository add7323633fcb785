import Foundation
@testable import QuernMedia
import QuernTestSupport
import Testing

/// The JPEG decoder (libjpeg-turbo) and its Pillow-exact RGB conversion over
/// the corpus of scripts/make-jpeg-corpus.py: every good file gives exactly
/// the bytes of Pillow's `ImageOps.exif_transpose(Image.open(f)).convert("RGB")`
/// (baseline, progressive, 4:2:0/4:2:2/4:4:4, gray, CMYK with and without the
/// Adobe marker, restart markers, EXIF orientations 1–9 in both byte orders,
/// XMP orientation); every broken file is an error of the expected kind.
@Suite struct JPEGDecoderTests {
    @Test func corpusIsPresent() {
        #expect(JPEGTestSupport.goodFiles.count >= 30)
        #expect(JPEGTestSupport.brokenFiles.count >= 15)
    }

    @Test(arguments: JPEGTestSupport.goodFiles)
    func goodFileDecodesLikePillow(_ file: JPEGTestSupport.GoodFile) throws {
        let decoded = try JPEGDecoder().decode(contentsOf: file.path)
        let rgb = decoded.convertedToRGB()
        #expect(rgb.image.width == file.width && rgb.image.height == file.height, "\(file.about)")
        #expect(ImageTestSupport.sha256(of: rgb.image.pixels) == file.rgbSHA256, "RGB bytes differ from Pillow's (\(file.about))")
        #expect(decoded.warnings.isEmpty, "libjpeg warned: \(decoded.warnings)")
    }

    @Test func headerFactsAreReported() throws {
        let decoder = JPEGDecoder()
        let progressive = try decoder.decode(contentsOf: JPEGTestSupport.corpus + "/progressive-420.jpg")
        #expect(progressive.header.progressive && progressive.header.components == 3 && progressive.colorSpace == .ycbcr)
        #expect(progressive.convertedToRGB().steps.isEmpty)
        let gray = try decoder.decode(contentsOf: JPEGTestSupport.corpus + "/gray.jpg")
        #expect(gray.channels == 1 && gray.header.colorName == "gray" && !gray.header.progressive)
        #expect(gray.convertedToRGB().steps == ["gray copied to R, G and B"])
        let cmyk = try decoder.decode(contentsOf: JPEGTestSupport.corpus + "/cmyk-adobe.jpg")
        #expect(cmyk.channels == 4 && cmyk.header.adobeTransform == 0 && cmyk.colorSpace == .cmyk && cmyk.header.colorName == "cmyk")
        let bare = try decoder.decode(contentsOf: JPEGTestSupport.corpus + "/cmyk-no-adobe.jpg")
        #expect(bare.header.adobeTransform == nil && bare.colorSpace == .cmyk)
        let rgb = try decoder.decode(contentsOf: JPEGTestSupport.corpus + "/rgb-keep.jpg")
        #expect(rgb.colorSpace == .rgb && rgb.header.adobeTransform == 0)
        let turned = try decoder.decode(contentsOf: JPEGTestSupport.corpus + "/orientation-6.jpg")
        #expect(turned.width == 80 && turned.height == 48 && turned.header.orientation == .rotatedLeft)
        #expect(turned.header.upright.width == 48 && turned.header.upright.height == 80 && turned.header.upright.pixels == 80 * 48)
        let conversion = turned.convertedToRGB()
        #expect(conversion.image.width == 48 && conversion.image.height == 80)
        #expect(conversion.steps == ["EXIF orientation 6: ROTATE_270"])
        let invalid = try decoder.decode(contentsOf: JPEGTestSupport.corpus + "/orientation-9-invalid.jpg")
        #expect(invalid.header.orientationTag == 9 && invalid.header.orientation == .upright)
        let xmp = try decoder.decode(contentsOf: JPEGTestSupport.corpus + "/orientation-xmp-6.jpg")
        #expect(xmp.header.orientationTag == 6)
    }

    @Test(arguments: JPEGTestSupport.brokenFiles)
    func brokenFileIsAnError(_ file: JPEGTestSupport.BrokenFile) throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: file.path))
        do {
            let decoded = try JPEGDecoder().decode(data)
            Issue.record("\(file.file) (\(file.about)) decoded as \(decoded.width)×\(decoded.height)")
        } catch {
            #expect(error.code == file.code, "\(file.about): \(error)")
        }
    }

    @Test func emptyAndForeignBytesAreRefused() {
        #expect(throws: MediaError(.empty, "the file is empty")) { try JPEGDecoder().decode([UInt8]()) }
        do {
            _ = try JPEGDecoder().decode(Array("GIF89a".utf8))
            Issue.record("a GIF header decoded")
        } catch {
            #expect(error.kind == .unrecognized)
        }
    }

    @Test func pixelLimitIsCheckedBeforeDecoding() throws {
        let path = JPEGTestSupport.corpus + "/baseline-420.jpg"  // 96 × 64 = 6144 pixels
        do {
            _ = try JPEGDecoder(maximumPixels: 6143).decode(contentsOf: path)
            Issue.record("decoded over the pixel limit")
        } catch {
            #expect(error.kind == .tooLarge)
        }
        #expect(try JPEGDecoder(maximumPixels: 6144).decode(contentsOf: path).width == 96)
        // The memory budget, from the frame header too.
        #expect(throws: MediaError.self) { try JPEGDecoder(memoryBudget: 6144 * 3 - 1).decode(contentsOf: path) }
    }

    @Test func everyTruncationOfAFileIsAnError() throws {
        // Cutting a file anywhere before its EOI must never crash or yield an image.
        for name in ["restart-rows.jpg", "progressive-444.jpg", "cmyk-progressive.jpg"] {
            let data = try Data(contentsOf: URL(fileURLWithPath: JPEGTestSupport.corpus + "/" + name))
            for length in stride(from: 0, to: data.count, by: 5) {
                #expect(throws: MediaError.self, "\(name) cut at \(length)") { try JPEGDecoder().decode(data.prefix(length)) }
            }
        }
    }

    @Test func randomDamageNeverCrashes() throws {
        // JPEG has no checksums, so a damaged copy may still decode (to other
        // pixels); what matters is that it is an error or a whole image of
        // the declared size, never a crash or a partial buffer.
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next() -> Int {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Int(truncatingIfNeeded: state >> 33)
        }
        var errors = 0, decoded = 0
        for file in JPEGTestSupport.goodFiles where !file.file.hasPrefix("large-") {
            let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: file.path)))
            for _ in 0..<12 {
                var damaged = bytes
                for _ in 0...(next() % 4) {
                    let position = 2 + next() % (bytes.count - 2)
                    damaged[position] ^= UInt8(1 + next() % 255)
                }
                do {
                    let image = try JPEGDecoder(maximumPixels: 1_000_000).decode(damaged)
                    let rgb = image.convertedToRGB().image
                    #expect(rgb.pixels.count == rgb.width * rgb.height * 3)
                    decoded += 1
                } catch {
                    errors += 1
                }
            }
        }
        print("JPEG random damage: \(errors) errors, \(decoded) decoded to whole images")
        #expect(errors > 0)
    }
}

/// The marker walk intake runs before decoding (`JPEGProbe`) and the EXIF
/// orientation reader, on hand-made bytes.
@Suite struct JPEGProbeTests {
    /// SOI, an APP1 (`app1`), a baseline SOF0 of `width` × `height`, SOS.
    static func file(width: Int, height: Int, components: Int = 3, app1: [UInt8]? = nil, marker: UInt8 = 0xC0) -> [UInt8] {
        var bytes: [UInt8] = [0xFF, 0xD8]
        if let app1 { bytes += [0xFF, 0xE1, UInt8((app1.count + 2) >> 8), UInt8((app1.count + 2) & 0xFF)] + app1 }
        let frame: [UInt8] = [8, UInt8(height >> 8), UInt8(height & 0xFF), UInt8(width >> 8), UInt8(width & 0xFF), UInt8(components)]
            + (0..<components).flatMap { [UInt8($0 + 1), 0x11, 0] }
        bytes += [0xFF, marker, 0, UInt8(frame.count + 2)] + frame
        bytes += [0xFF, 0xDA, 0, 8, 1, 1, 0, 0, 63, 0]
        return bytes
    }

    static func exif(bigEndian: Bool, entries: [(tag: UInt16, type: UInt16, count: UInt32, value: UInt32)]) -> [UInt8] {
        func u16(_ value: UInt16) -> [UInt8] { bigEndian ? [UInt8(value >> 8), UInt8(value & 0xFF)] : [UInt8(value & 0xFF), UInt8(value >> 8)] }
        func u32(_ value: UInt32) -> [UInt8] {
            let big = [UInt8(value >> 24), UInt8((value >> 16) & 0xFF), UInt8((value >> 8) & 0xFF), UInt8(value & 0xFF)]
            return bigEndian ? big : big.reversed()
        }
        var tiff: [UInt8] = bigEndian ? Array("MM".utf8) : Array("II".utf8)
        tiff += u16(42) + u32(8) + u16(UInt16(entries.count))
        for entry in entries {
            // A SHORT sits in the value field's first two bytes.
            let value = entry.type == 3 ? u16(UInt16(entry.value)) + [0, 0] : u32(entry.value)
            tiff += u16(entry.tag) + u16(entry.type) + u32(entry.count) + value
        }
        return Array("Exif\0\0".utf8) + tiff + u32(0)
    }

    @Test func headerFromTheMarkers() throws {
        let header = try JPEGProbe.inspect(Self.file(width: 640, height: 480))
        #expect(header == JPEGHeader(width: 640, height: 480, components: 3))
        #expect(JPEGProbe.matches(Self.file(width: 1, height: 1)))
        let progressive = try JPEGProbe.inspect(Self.file(width: 8, height: 8, components: 1, marker: 0xC2))
        #expect(progressive.progressive && progressive.components == 1 && !progressive.arithmetic)
    }

    /// A 40-byte file declaring 65,000 × 65,000 pixels is refused from its frame header.
    @Test func pixelLimitFromTheFrameHeader() throws {
        let bomb = Self.file(width: 65000, height: 65000)
        #expect(try JPEGProbe.inspect(bomb).pixels == 4_225_000_000)
        #expect(throws: MediaError(.tooLarge, "the image is 65000×65000 pixels, more than the limit of 40000000")) {
            try JPEGProbe.inspect(bomb, maximumPixels: 40_000_000)
        }
        #expect(throws: MediaError.self) { try JPEGDecoder().decode(bomb) }
    }

    @Test func structuralFaults() {
        let good = Self.file(width: 4, height: 4)
        let cases: [([UInt8], MediaError.Kind, String)] = [
            (Array(good.prefix(good.count - 3)), .corrupt, "truncated"),
            ([0xFF, 0xD8, 0x00], .corrupt, "expected a marker at byte 2"),
            ([0xFF, 0xD8, 0xFF, 0xD9], .corrupt, "before any image data"),
            ([0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x01], .corrupt, "impossible length 1"),
            ([0xFF, 0xD8, 0xFF, 0xDA, 0x00, 0x02], .corrupt, "before any frame header"),
            (Self.file(width: 0, height: 4), .corrupt, "empty 0×4 image"),
            (Self.file(width: 4, height: 4, components: 2), .unsupported, "2-component"),
            (Self.file(width: 4, height: 4, marker: 0xC3), .unsupported, "lossless"),
            ([0x89, 0x50, 0x4E, 0x47], .unrecognized, "start-of-image"),
        ]
        for (bytes, kind, expected) in cases {
            do {
                _ = try JPEGProbe.inspect(bytes)
                Issue.record("accepted a file with \(expected)")
            } catch {
                #expect(error.kind == kind && error.message.contains(expected), "\(error.message)")
            }
        }
    }

    @Test func exifOrientationInBothByteOrders() throws {
        for bigEndian in [true, false] {
            for orientation in 1...8 {
                let app1 = Self.exif(bigEndian: bigEndian, entries: [(0x010F, 2, 20, 200), (0x0112, 3, 1, UInt32(orientation))])
                let header = try JPEGProbe.inspect(Self.file(width: 4, height: 2, app1: app1))
                #expect(header.orientation.rawValue == orientation)
            }
            // LONG instead of SHORT, as some tools write it.
            let long = Self.exif(bigEndian: bigEndian, entries: [(0x0112, 4, 1, 6)])
            #expect(try JPEGProbe.inspect(Self.file(width: 4, height: 2, app1: long)).orientation == .rotatedLeft)
        }
    }

    /// Damaged EXIF never fails the image: it is shown as stored, as if the tag were absent.
    @Test func damagedExifIsIgnored() throws {
        let good = Self.exif(bigEndian: true, entries: [(0x0112, 3, 1, 6)])
        var badMagic = good
        badMagic[6] = UInt8(ascii: "X")
        var farIFD = good
        farIFD[13] = 0xF0  // IFD0 offset past the payload
        var manyEntries = good
        manyEntries[15] = 0xFF  // 255 entries declared, one present
        manyEntries[14] = 0x00
        for (payload, name) in [(badMagic, "byte order"), (farIFD, "IFD offset"), (Array(good.prefix(12)), "cut TIFF header")] {
            let header = try JPEGProbe.inspect(Self.file(width: 4, height: 2, app1: payload))
            #expect(header.orientationTag == nil, "\(name)")
        }
        // Entries past the payload's end are not read; the one present still is.
        #expect(try JPEGProbe.inspect(Self.file(width: 4, height: 2, app1: manyEntries)).orientationTag == 6)
        #expect(ExifOrientationReader.orientation(tiff: []) == nil)
        #expect(ExifOrientationReader.orientation(xmp: ArraySlice(Array("<tiff:Orientation>8</tiff:Orientation>".utf8))) == 8)
        #expect(ExifOrientationReader.orientation(xmp: ArraySlice(Array("tiff:Orientation=\"".utf8))) == nil)
    }
}
