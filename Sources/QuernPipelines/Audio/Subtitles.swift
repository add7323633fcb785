import Foundation

/// Subtitle formats a transcription request can ask for (`"subtitles":
/// ["srt", "vtt"]`, or one of them as a string); they come back as strings
/// in the result's `subtitles` object.
public enum SubtitleFormat: String, Sendable, CaseIterable {
    case srt, vtt

    /// The request's `subtitles` field: a format or a list of distinct formats.
    static func parse(_ fields: Fields) throws(QuernError) -> [SubtitleFormat] {
        let names = try fields.optionalStringOrList("subtitles", maximumCount: allCases.count)
        var formats: [SubtitleFormat] = []
        for name in names {
            guard let format = SubtitleFormat(rawValue: name.lowercased()) else {
                throw QuernError(.requestInvalidValue, "field \"subtitles\": unknown format \"\(name)\" (one of: srt, vtt)")
            }
            guard !formats.contains(format) else {
                throw QuernError(.requestInvalidValue, "field \"subtitles\": \"\(name)\" is listed twice")
            }
            formats.append(format)
        }
        return formats
    }

    /// The subtitle file for `segments`: numbered SRT cues with comma
    /// milliseconds, or WebVTT with a header and dot milliseconds.
    public func render(_ segments: [TranscriptionOutput.Segment]) -> String {
        var lines: [String] = self == .vtt ? ["WEBVTT", ""] : []
        for (index, segment) in segments.enumerated() {
            if self == .srt { lines.append(String(index + 1)) }
            lines.append("\(timestamp(segment.start)) --> \(timestamp(segment.end))")
            lines.append(segment.text.trimmingCharacters(in: .whitespacesAndNewlines))
            lines.append("")
        }
        return lines.joined(separator: "\n")
    }

    /// HH:MM:SS,mmm (SRT) or HH:MM:SS.mmm (VTT), rounded to the millisecond.
    func timestamp(_ seconds: Double) -> String {
        let milliseconds = Int((max(0, seconds) * 1000).rounded())
        let hours = milliseconds / 3_600_000, minutes = milliseconds / 60_000 % 60
        let wholeSeconds = milliseconds / 1000 % 60, rest = milliseconds % 1000
        func padded(_ value: Int, _ width: Int) -> String {
            let digits = String(value)
            return String(repeating: "0", count: max(0, width - digits.count)) + digits
        }
        let separator = self == .srt ? "," : "."
        return padded(hours, 2) + ":" + padded(minutes, 2) + ":" + padded(wholeSeconds, 2) + separator + padded(rest, 3)
    }
}
