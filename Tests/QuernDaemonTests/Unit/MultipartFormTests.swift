import QuernHTTP
import Testing

/// The multipart/form-data parser the transcription and classify routes
/// read uploads with (RFC 7578).
@Suite struct MultipartFormTests {
    private static let contentType = "multipart/form-data; boundary=\"xyz\""

    private static func body(_ text: String) -> [UInt8] { Array(text.replacingOccurrences(of: "\n", with: "\r\n").utf8) }

    @Test func fieldsAndAFileWithBinaryContent() throws {
        var bytes = Self.body("""
            --xyz
            Content-Disposition: form-data; name="model"

            whisper-tiny-en
            --xyz
            Content-Disposition: form-data; name="timestamp_granularities[]"

            word
            --xyz
            Content-Disposition: form-data; name="timestamp_granularities[]"

            segment
            --xyz
            Content-Disposition: form-data; name="file"; filename="talk.wav"
            Content-Type: audio/wav


            """)
        // File bytes that hold CR LF and a false boundary start.
        let file: [UInt8] = [0x52, 0x49, 0x46, 0x46, 0x0D, 0x0A, 0x2D, 0x2D, 0x78, 0x79, 0x00, 0xFF]
        bytes += file + Self.body("\n--xyz--\n")
        let form = try MultipartForm(body: bytes, contentType: Self.contentType)
        #expect(form.part("model")?.text == "whisper-tiny-en")
        #expect(form.parts(named: "timestamp_granularities[]").map(\.text) == ["word", "segment"])
        let upload = try #require(form.part("file"))
        #expect(upload.fileName == "talk.wav")
        #expect(upload.contentType == "audio/wav")
        #expect(upload.body == file)
    }

    @Test(arguments: [
        ("application/json", "--xyz\n", "multipart/form-data"),
        (contentType, "no boundary here", "no boundary line"),
        (contentType, "--xyz\nContent-Disposition: form-data; name=\"a\"\n\nvalue without a closing boundary", "not closed"),
        (contentType, "--xyz\nContent-Disposition: form-data\n\nx\n--xyz--\n", "no Content-Disposition name"),
        (contentType, "--xyz\nContent-Disposition: form-data; name=\"a\"", "no blank line"),
    ])
    func malformedBodiesSayWhy(contentType: String, text: String, fragment: String) {
        do {
            _ = try MultipartForm(body: Self.body(text), contentType: contentType)
            Issue.record("\(text) was accepted")
        } catch {
            #expect(error.description.contains(fragment), "\(error.description)")
        }
    }
}
