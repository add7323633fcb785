import Foundation

/// Text renderings of a transcript: SRT and WebVTT subtitles, and plain text
/// (`txt`: each segment's text on its own line). A request asks for them in
/// the result (`"subtitles": ["srt", "vtt", "txt"]`, or one as a string) or
/// as files beside the result (`"transcript_files"`, `--transcript-files`);
/// the raw value is the file extension.
public enum SubtitleFormat: String, Sendable, CaseIterable {
    case srt, vtt
    case text = "txt"

    /// The names a request or an option may use: the extensions, and "text".
    public init?(name: String) {
        let lowered = name.lowercased()
        if lowered == "text" { self = .text } else if let format = SubtitleFormat(rawValue: lowered) { self = format } else { return nil }
    }

    /// The request's `subtitles` field: a format or a list of distinct formats.
    static func parse(_ fields: Fields) throws(QuernError) -> [SubtitleFormat] {
        try parse(fields, field: "subtitles") ?? []
    }

    /// `field` as a format or a list of distinct formats; nil when absent.
    static func parse(_ fields: Fields, field: String) throws(QuernError) -> [SubtitleFormat]? {
        guard fields[field] != nil else { return nil }
        let names = try fields.optionalStringOrList(field, maximumCount: allCases.count)
        var formats: [SubtitleFormat] = []
        for name in names {
            guard let format = SubtitleFormat(name: name) else {
                throw QuernError(.requestInvalidValue, "field \"\(field)\": unknown format \"\(name)\" (one of: srt, vtt, txt)")
            }
            guard !formats.contains(format) else {
                throw QuernError(.requestInvalidValue, "field \"\(field)\": \"\(name)\" is listed twice")
            }
            formats.append(format)
        }
        return formats
    }

    /// Formats separated by commas (`--transcript-files srt,vtt`); empty
    /// text or `none` is none; nil for an unknown or repeated name.
    public static func list(_ text: String) -> [SubtitleFormat]? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if trimmed.isEmpty || trimmed.lowercased() == "none" { return [] }
        var formats: [SubtitleFormat] = []
        for part in trimmed.split(separator: ",", omittingEmptySubsequences: false) {
            guard let format = SubtitleFormat(name: part.trimmingCharacters(in: .whitespaces)), !formats.contains(format) else { return nil }
            formats.append(format)
        }
        return formats
    }

    /// The file for `segments`: numbered SRT cues with comma milliseconds,
    /// WebVTT with a header and dot milliseconds, or the segments' texts one
    /// per line. Times are rounded to the millisecond here, from the
    /// segments' unrounded times.
    public func render(_ segments: [TranscriptionOutput.Segment]) -> String {
        if self == .text {
            return segments.map { $0.text.trimmingCharacters(in: .whitespacesAndNewlines) + "\n" }.joined()
        }
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

/// What a transcription request asks for besides the transcript.
public struct TranscriptionOptions: Sendable, Equatable {
    /// Renderings put in the result's `subtitles` object.
    public var subtitles: [SubtitleFormat]
    /// Time every word (`word_timestamps`).
    public var wordTimestamps: Bool
    /// Files written beside the result in the outbox (`transcript_files`);
    /// nil: the daemon's `--transcript-files`.
    public var files: [SubtitleFormat]?

    public init(subtitles: [SubtitleFormat] = [], wordTimestamps: Bool = false, files: [SubtitleFormat]? = nil) {
        self.subtitles = subtitles
        self.wordTimestamps = wordTimestamps
        self.files = files
    }

    /// The request's `subtitles`, `word_timestamps` and `transcript_files`,
    /// and the OpenAI transcription fields a request may carry as they are:
    /// `response_format` (`srt`, `vtt` or `text` adds that rendering to the
    /// result's subtitles; `json` and `verbose_json` change nothing, the
    /// result always holds the text and the segments),
    /// `timestamp_granularities` (`word` is `word_timestamps: true`) and
    /// `language` (English only: Quern's Whisper models are the `.en` ones).
    static func parse(_ fields: Fields) throws(QuernError) -> TranscriptionOptions {
        var options = TranscriptionOptions(subtitles: try SubtitleFormat.parse(fields), wordTimestamps: try fields.optionalBool("word_timestamps") ?? false,
                                           files: try SubtitleFormat.parse(fields, field: "transcript_files"))
        if let format = try fields.optionalString("response_format") {
            switch format {
            case "json", "verbose_json": break
            case "srt", "vtt", "text":
                let rendering = SubtitleFormat(name: format) ?? .text
                if !options.subtitles.contains(rendering) { options.subtitles.append(rendering) }
            default:
                throw QuernError(.requestInvalidValue, "field \"response_format\": \"\(format)\" is not one of: json, text, srt, vtt, verbose_json")
            }
        }
        for granularity in try fields.optionalStringOrList("timestamp_granularities", maximumCount: 2) {
            switch granularity {
            case "word": options.wordTimestamps = true
            case "segment": break
            default: throw QuernError(.requestInvalidValue, "field \"timestamp_granularities\": \"\(granularity)\" is not one of: word, segment")
            }
        }
        if let language = try fields.optionalString("language"), !["en", "english"].contains(language.lowercased()) {
            throw QuernError(.unsupported, "field \"language\": \"\(language)\" cannot be transcribed: Quern's Whisper model is English-only (give \"en\" or leave it out)")
        }
        return options
    }
}
