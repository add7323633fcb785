import FuzzSupport
import QuernPipelines

// What the daemon does with a file dropped in the inbox before any model
// runs: RequestParser.parse on the bytes (a .json request), and
// InputInspector.inspect — kind detection by magic number and UTF-8, the
// request parser for .json names, the PNG/WAV/libsndfile header probes —
// with small limits (4 M pixels, 10 s of audio, 100 k characters).
let inspector = InputInspector(limits: InputLimits(maxBytes: 1 << 20, maxPixels: 4_000_000, maxAudioSeconds: 10, maxTextCharacters: 100_000))
let names: [[UInt8]] = [Array("request.json".utf8), Array("dropped".utf8)]

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = FuzzInput.bytes(data, size)
    blackHole(try? RequestParser.parse(bytes))
    for name in names {
        let inspection = inspector.inspect(name: name, bytes: bytes)
        blackHole(inspection.kind)
        if case let .failure(error) = inspection.outcome { blackHole(error.code) }
    }
    return 0
}
