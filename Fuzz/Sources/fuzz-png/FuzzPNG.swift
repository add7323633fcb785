import FuzzSupport
import QuernMedia

// PNG → the intake's structure check (PNGProbe), then Pillow-exact RGB →
// open_nsfw's preprocessing (256×256 bilinear, crop, BGR, mean), as
// ImageClassificationPipeline.prepare does. The pixel limit is 4 M (the
// daemon's is 40 M) so the fuzzer is not just allocating.
let decoder = PNGDecoder(maximumPixels: 4_000_000)

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = FuzzInput.bytes(data, size)
    blackHole(try? PNGProbe.inspect(bytes, maximumPixels: 4_000_000))
    guard let decoded = try? decoder.decode(bytes) else { return 0 }
    blackHole(decoded.warnings)
    let conversion = decoded.convertedToRGB()
    if let prepared = try? ImagePreprocessing.openNSFW.apply(to: conversion.image) {
        precondition(prepared.pixels.shape == [3, 224, 224], "open_nsfw input has shape \(prepared.pixels.shape)")
    }
    return 0
}
