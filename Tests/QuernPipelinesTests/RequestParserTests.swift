import QuernModels
import QuernPipelines
import Testing

@Suite struct RequestParserTests {
    private func parse(_ text: String) throws(QuernError) -> Job { try RequestParser.parse(Array(text.utf8)) }

    private func failure(_ text: String) -> QuernError? {
        do throws(QuernError) {
            _ = try parse(text)
            return nil
        } catch {
            return error
        }
    }

    @Test func chatWithEverySamplingField() throws {
        let job = try parse("""
            {"task": "chat", "model": "smollm2", "messages": [{"role": "system", "content": "Be brief."},
             {"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello"}, {"role": "user", "content": "Again"}],
             "max_tokens": 64, "temperature": 0, "top_k": 40, "top_p": 0.9, "min_p": 0.05, "repetition_penalty": 1.1,
             "seed": 18446744073709551615, "stop": ["\\n\\n", "User:"]}
            """)
        guard case let .chat(messages, sampling) = job.request else { Issue.record("not chat"); return }
        #expect(job.model == "smollm2")
        #expect(messages.map(\.role) == ["system", "user", "assistant", "user"])
        #expect(sampling.maxTokens == 64)
        #expect(sampling.temperature == 0)
        #expect(sampling.topK == 40)
        #expect(sampling.topP == 0.9)
        #expect(sampling.minP == 0.05)
        #expect(sampling.repetitionPenalty == 1.1)
        #expect(sampling.seed == UInt64.max)
        #expect(sampling.stop == ["\n\n", "User:"])
    }

    @Test func completeAndEmbed() throws {
        #expect(try parse(#"{"task": "complete", "prompt": "Once", "stop": "."}"#).request == .complete(prompt: "Once", sampling: {
            var sampling = SamplingParameters()
            sampling.stop = ["."]
            return sampling
        }()))
        #expect(try parse(#"{"task": "embed", "input": "one"}"#).request == .embed(inputs: ["one"]))
        #expect(try parse(#"{"task": "embed", "input": ["one", "two"]}"#).request == .embed(inputs: ["one", "two"]))
        #expect(try parse(#"{"task": "embed", "input": "one", "truncate": true}"#).request == .embed(inputs: ["one"], truncate: true))
        #expect(try parse(#"{"task": "embed", "input": "one", "truncate": false}"#).request == .embed(inputs: ["one"]))
        #expect(try parse(#"{"task": "embed", "input": "one", "truncate": null}"#).request == .embed(inputs: ["one"]))
    }

    /// An OpenAI request body is a request as it is: the task comes from
    /// its fields, and its non-sampling fields land on the job.
    @Test func openAIBodiesNeedNoTask() throws {
        let chat = try parse(#"{"model": "SmolLM2-135M-Instruct", "messages": [{"role": "user", "content": "Hi"}], "n": 3, "stream": true, "stream_options": {"include_usage": true}, "user": "u1", "max_completion_tokens": 7}"#)
        guard case let .chat(_, sampling) = chat.request else { Issue.record("not chat"); return }
        #expect(sampling.maxTokens == 7)
        #expect(chat.choices == 3)
        #expect(chat.stream)
        #expect(chat.streamIncludesUsage)
        #expect(try parse(#"{"prompt": "Once"}"#).request.task == .complete)
        let embed = try parse(#"{"input": ["a", "b"], "encoding_format": "base64", "model": "all-MiniLM-L6-v2", "user": "u"}"#)
        #expect(embed.request == .embed(inputs: ["a", "b"]))
        #expect(embed.embeddingEncoding == .base64)
        // An explicit task still wins over the inference.
        #expect(try parse(#"{"task": "embed", "input": "x"}"#).request.task == .embed)
    }

    /// The OpenAI transcription fields in a file's request.
    @Test func openAITranscriptionFieldsMapToOurs() throws {
        let job = try parse(#"{"task": "transcribe", "input": "AA==", "response_format": "srt", "timestamp_granularities": ["word", "segment"], "language": "en"}"#)
        guard case let .transcribe(_, options) = job.request else { Issue.record("not transcribe"); return }
        #expect(options.subtitles == [.srt])
        #expect(options.wordTimestamps)
    }

    @Test func nullMeansAbsent() throws {
        guard case let .complete(_, sampling) = try parse(#"{"task": "complete", "prompt": "x", "temperature": null}"#).request else {
            Issue.record("not complete"); return
        }
        #expect(sampling.temperature == SamplingParameters().temperature)
    }

    @Test(arguments: [
        (#"{"task": "chat", "messages": [{"role": "user", "content": "x"}], "max_token": 5}"#, ErrorCode.requestUnknownField, "\"max_token\" — did you mean \"max_tokens\""),
        (#"{"task": "chat", "messages": [{"role": "user", "content": "x"}], "bogus": 1}"#, .requestUnknownField, "\"bogus\""),
        (#"{"task": "chat", "messages": [{"role": "user", "content": "x", "name": "bob"}]}"#, .requestUnknownField, "messages[0].name"),
        (#"{"task": "chat", "messages": [{"role": "user", "content": "x"}], "temperature": "hot"}"#, .requestWrongType, "\"temperature\" must be a number, got string"),
        (#"{"task": "chat", "messages": [{"role": "user", "content": "x"}], "max_tokens": 1.5}"#, .requestWrongType, "\"max_tokens\" must be an integer"),
        (#"{"task": "chat", "messages": [{"role": "user", "content": "x"}], "temperature": true}"#, .requestWrongType, "got boolean"),
        (#"{"task": "chat", "messages": "hello"}"#, .requestWrongType, "\"messages\" must be an array"),
        (#"{"task": "chat", "messages": [{"role": "user", "content": 5}]}"#, .requestWrongType, "messages[0].content"),
        (#"{"task": "chat", "messages": [{"role": "user", "content": "a"}, {"role": "robot", "content": "b"}]}"#, .requestInvalidValue, "messages[1].role"),
        (#"{"task": "chat", "messages": []}"#, .requestInvalidValue, "must not be empty"),
        (#"{"task": "chat"}"#, .requestMissingField, "\"messages\""),
        (#"{"task": "complete"}"#, .requestMissingField, "\"prompt\""),
        (#"{"task": "embed", "input": [1]}"#, .requestWrongType, "input[0]"),
        (#"{"task": "embed", "input": []}"#, .requestInvalidValue, "empty list"),
        (#"{"task": "embed", "input": "x", "temperature": 1}"#, .requestFieldNotApplicable, "\"temperature\" does not apply to task \"embed\""),
        (#"{"task": "embed", "input": "x", "truncate": 1}"#, .requestWrongType, "\"truncate\" must be true or false, got number"),
        (#"{"task": "embed", "input": "x", "truncated": true}"#, .requestUnknownField, "did you mean \"truncate\""),
        (#"{"task": "complete", "prompt": "x", "truncate": true}"#, .requestFieldNotApplicable, "\"truncate\" does not apply to task \"complete\""),
        (#"{"task": "complete", "prompt": "x", "top_p": 1.5}"#, .requestInvalidValue, "\"top_p\" must be between 0.0 and 1.0"),
        (#"{"task": "complete", "prompt": "x", "seed": -1}"#, .requestInvalidValue, "\"seed\""),
        (#"{"task": "dance"}"#, .requestInvalidValue, "unknown task \"dance\""),
        (#"{"task": 3}"#, .requestWrongType, "\"task\""),
        (#"{"stop": "x"}"#, .requestMissingField, "\"task\""),
        (#"{"task": "transcribe", "input": "AA==", "language": "fr"}"#, .unsupported, "English-only"),
        (#"{"task": "transcribe", "input": "AA==", "response_format": "docx"}"#, .requestInvalidValue, "\"response_format\""),
        (#"{"task": "transcribe", "input": "AA==", "timestamp_granularities": ["char"]}"#, .requestInvalidValue, "\"timestamp_granularities\""),
        (#"{"input": "x", "dimensions": 64}"#, .requestFieldNotApplicable, "\"dimensions\""),
        (#"{"input": "x", "encoding_format": "int8"}"#, .requestInvalidValue, "\"encoding_format\""),
        (#"{"prompt": "x", "n": 9}"#, .requestInvalidValue, "\"n\""),
        (#"{"prompt": "x", "stream_options": {"include_obfuscation": true}}"#, .requestUnknownField, "stream_options.include_obfuscation"),
        (#"{"prompt": "x", "max_tokens": 5, "max_completion_tokens": 6}"#, .requestInvalidValue, "disagree"),
        (#"{"messages": [{"role": "user", "content": "x"}], "n": 2, "conversation": "c1"}"#, .requestInvalidValue, "\"n\""),
        (#"[1, 2]"#, .requestNotObject, "got array"),
        (#"{"task": "chat", "#, .requestInvalidJSON, "line 1"),
        (#"{"task": "classify", "input": "***"}"#, .requestInvalidValue, "base64"),
    ])
    func rejectsWithFieldNamed(text: String, code: ErrorCode, fragment: String) {
        let error = failure(text)
        #expect(error?.code == code, "\(text) → \(String(describing: error))")
        #expect(error?.message.contains(fragment) == true, "\(String(describing: error?.message)) lacks \(fragment)")
    }
}
