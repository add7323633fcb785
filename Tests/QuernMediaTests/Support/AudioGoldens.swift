import Foundation
import QuernTestSupport

/// Tests/QuernMediaTests/Goldens/audio-goldens.json, written by
/// tools/goldens/make_audio_goldens.py from faster-whisper 1.2.1 and soxr.
enum AudioGoldens {
    static let path = TestPaths.inRepository("Tests/QuernMediaTests/Goldens/audio-goldens.json")

    static let root: [String: Any] = {
        guard let data = FileManager.default.contents(atPath: path),
              let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return [:] }
        return object
    }()

    /// faster-whisper's record for one corpus file.
    static func file(_ name: String) -> [String: Any]? {
        (root["files"] as? [String: Any])?[name] as? [String: Any]
    }

    static func floats(_ value: Any?) -> [Float] {
        (value as? [Any])?.compactMap { ($0 as? NSNumber)?.floatValue } ?? []
    }

    static func double(_ value: Any?) -> Double? { (value as? NSNumber)?.doubleValue }
}

/// How close two signals are: signal-to-error ratio and largest difference.
struct SignalComparison: CustomStringConvertible {
    let snrDecibels: Double
    let maxError: Double
    let count: Int

    init(_ actual: [Float], reference: [Float]) {
        let count = min(actual.count, reference.count)
        var signal = 0.0, error = 0.0, largest = 0.0
        for index in 0..<count {
            let difference = Double(actual[index]) - Double(reference[index])
            signal += Double(reference[index]) * Double(reference[index])
            error += difference * difference
            largest = max(largest, abs(difference))
        }
        self.count = count
        snrDecibels = error == 0 ? .infinity : 10 * log10(signal / error)
        maxError = largest
    }

    var description: String {
        "SNR \(String(format: "%.1f", snrDecibels)) dB, max error \(String(format: "%.2e", maxError)) over \(count) samples"
    }
}
