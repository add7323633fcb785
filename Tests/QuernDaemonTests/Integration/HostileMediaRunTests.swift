import Foundation
import QuernTestSupport
import Testing

extension Integration {
    /// Hostile media through `quern run`: files that once crashed the daemon
    /// (a 77 KB PNG asking for 23 GB) or slipped past its limits (a WAV with
    /// a false byte_rate) get error results, quickly, and the process lives.
    /// All are refused when the file is inspected, so no model is needed.
    @Suite struct HostileMediaRun {
        private static func run(_ name: String, _ bytes: [UInt8], _ options: [String] = []) throws
            -> (status: Int32, document: [String: Any]?, seconds: Double) {
            let scratch = try Scratch()
            let noModels = scratch.root.appendingPathComponent("no-models")
            try FileManager.default.createDirectory(at: noModels, withIntermediateDirectories: true)
            let file = scratch.staging.appendingPathComponent(name)
            try Data(bytes).write(to: file)
            let started = ContinuousClock.now
            let (status, lines) = try QuernBinary.run(["--models", noModels.path] + options + [file.path])
            let elapsed = ContinuousClock.now - started
            let document = try lines.first.flatMap { try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
            return (status, document, Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18)
        }

        private static func error(_ document: [String: Any]?) -> (code: String?, message: String) {
            let error = document?["error"] as? [String: Any]
            return (error?["code"] as? String, error?["message"] as? String ?? "")
        }

        /// Over the pixel limit a 1 × 40,000,000 strip is refused from its
        /// header (no aspect-ratio limit: the pixels are what costs).
        @Test func fortyMegapixelStripOverThePixelLimitIsRefused() throws {
            let strip = HostileMedia.grayPNG(width: 1, height: 40_000_000)
            let (status, document, seconds) = try Self.run("strip.png", strip, ["--max-pixels", "10000000"])
            #expect(status == 1, "an error result, not a crash (rc 134)")
            let (code, message) = Self.error(document)
            #expect(code == "input.too_large")
            #expect(message.contains("more than the limit of 10000000"), "\(message)")
            #expect(seconds < 30)
        }

        /// Within the default pixel limit the same strip is classified, and
        /// the daemon's peak memory stays that of an ordinary photo of as
        /// many pixels (the model, 40 MB of samples, 120 MB of RGB): the
        /// resize holds only its 224 output rows, not the 23 GB a full
        /// 8-bit intermediate once asked for.
        @Test func fortyMegapixelStripIsClassifiedInBoundedMemory() throws {
            let models = ImageRun.models
            guard FileManager.default.fileExists(atPath: models + "/open-nsfw/open-nsfw.onnx") else {
                Issue.record("open_nsfw is missing from \(models): run scripts/fetch-models.sh"); return
            }
            let scratch = try Scratch()
            let daemon = try DaemonProcess(scratch: scratch, arguments: ["--models", models, "--threads", "2"], diagnostic: false)
            #expect(daemon.waitUntilServing(timeout: 60), "\(daemon.log)")
            try scratch.drop("strip.png", HostileMedia.grayPNG(width: 1, height: 40_000_000))
            #expect(scratch.waitUntil(timeout: 120) { scratch.resultCount == 1 }, "\(daemon.log)")
            let peakKilobytes = daemon.peakResidentKilobytes
            daemon.signal(SIGTERM)
            #expect(daemon.waitForExit(timeout: 30) == 0)
            let result = try scratch.resultsByInput()["strip.png"]
            #expect(status(result) == "ok", "\(String(describing: result))")
            #expect(peakKilobytes != nil && peakKilobytes! < 768 * 1024, "peak RSS \(String(describing: peakKilobytes)) kB")
        }

        @Test func falseByteRateDoesNotBypassMaxAudioSeconds() throws {
            // 60 s of 16 kHz audio whose byte_rate claims 60× the real rate.
            let wav = HostileMedia.wav(frames: 60 * 16_000, byteRate: 60 * 32_000)
            let (status, document, _) = try Self.run("spoofed.wav", wav, ["--max-audio-seconds", "10"])
            #expect(status == 1)
            let (code, message) = Self.error(document)
            #expect(code == "input.too_large")
            #expect(message.contains("60 s"), "\(message)")
        }

        @Test func spoofedTwoHourWAVIsRefusedQuickly() throws {
            // Two hours (at 4 kHz, to keep the file at 58 MB) claiming ~1 s by byte_rate.
            let wav = HostileMedia.wav(frames: 2 * 3600 * 4000, sampleRate: 4000, byteRate: 2 * 3600 * 8000)
            let (status, document, seconds) = try Self.run("long.wav", wav)
            #expect(status == 1)
            #expect(Self.error(document).code == "input.too_large")
            #expect(seconds < 30, "refused from the header, not after decoding: \(seconds) s")
        }

        @Test func streamingWAVIsMeasuredByItsBytes() throws {
            let wav = HostileMedia.wav(frames: 60 * 16_000, dataSize: 0xFFFF_FFFF)
            let (_, document, _) = try Self.run("stream.wav", wav, ["--max-audio-seconds", "10"])
            #expect(Self.error(document).code == "input.too_large")
        }

        @Test func zeroBitsAndZeroBlockAlignAreNamed() throws {
            let zeroBits = try Self.run("bits0.wav", HostileMedia.wav(frames: 1600, bitsPerSample: 0))
            #expect(Self.error(zeroBits.document).code == "input.corrupt")
            #expect(Self.error(zeroBits.document).message.contains("declares 0 bits per sample"), "\(Self.error(zeroBits.document).message)")
            let zeroAlign = try Self.run("align0.wav", HostileMedia.wav(frames: 1600, blockAlign: 0))
            #expect(Self.error(zeroAlign.document).code == "input.corrupt")
            #expect(Self.error(zeroAlign.document).message.contains("block_align of 0"), "\(Self.error(zeroAlign.document).message)")
        }
    }
}
