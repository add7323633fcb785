import QuernMedia

/// The media layer's probes as intake uses them: a fault becomes the result
/// error of its kind, and a limit the daemon sets is named with the option
/// that raises it.
enum MediaProbes {
    /// An image's structure and pixel limit, by its magic: PNG or JPEG.
    static func checkImage(_ bytes: [UInt8], maxPixels: Int) throws(QuernError) {
        if JPEGProbe.matches(bytes) {
            try checkJPEG(bytes, maxPixels: maxPixels)
        } else {
            try checkPNG(bytes, maxPixels: maxPixels)
        }
    }

    /// PNG structure and the pixel limit (`--max-pixels`), before inflating a byte.
    static func checkPNG(_ bytes: [UInt8], maxPixels: Int) throws(QuernError) {
        do {
            _ = try PNGProbe.inspect(bytes, maximumPixels: maxPixels)
        } catch where error.kind == .tooLarge {
            throw QuernError(.inputTooLarge, "\(error.message) (raise --max-pixels)")
        } catch {
            throw QuernError(decoding: error, unrecognized: "not a PNG image")
        }
    }

    /// JPEG markers up to the first scan, the frame header and the pixel
    /// limit (`--max-pixels`), before decoding a block.
    static func checkJPEG(_ bytes: [UInt8], maxPixels: Int) throws(QuernError) {
        do {
            _ = try JPEGProbe.inspect(bytes, maximumPixels: maxPixels)
        } catch where error.kind == .tooLarge {
            throw QuernError(.inputTooLarge, "\(error.message) (raise --max-pixels)")
        } catch {
            throw QuernError(decoding: error, unrecognized: "not a JPEG image")
        }
    }

    /// The duration a WAVE header declares, in seconds, its chunks checked against the file.
    static func wavSeconds(_ bytes: [UInt8]) throws(QuernError) -> Double {
        do {
            return try WAVProbe.inspect(bytes)
        } catch {
            throw QuernError(decoding: error, unrecognized: "not a WAV file")
        }
    }
}
