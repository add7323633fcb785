import FuzzSupport
import QuernMedia

// JPEG → the intake's marker walk (JPEGProbe), libjpeg-turbo through the
// CQuernJPEG shim, Pillow-exact RGB with the EXIF orientation applied →
// open_nsfw's preprocessing, as ImageClassificationPipeline.prepare does.
// The pixel limit is 4 M (the daemon's is 40 M) so the fuzzer is not just
// allocating.
let decoder = JPEGDecoder(maximumPixels: 4_000_000)

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = FuzzInput.bytes(data, size)
    blackHole(try? JPEGProbe.inspect(bytes, maximumPixels: 4_000_000))
    blackHole(JPEGProbe.frameHeader(inPrefix: Array(bytes.prefix(4096))))
    guard let decoded = try? decoder.decode(bytes) else { return 0 }
    blackHole(decoded.warnings)
    let conversion = decoded.convertedToRGB()
    precondition(conversion.image.width * conversion.image.height == decoded.width * decoded.height, "the turned image lost pixels")
    if let prepared = try? ImagePreprocessing.openNSFW.apply(to: conversion.image) {
        precondition(prepared.pixels.shape == [3, 224, 224], "open_nsfw input has shape \(prepared.pixels.shape)")
    }
    return 0
}
