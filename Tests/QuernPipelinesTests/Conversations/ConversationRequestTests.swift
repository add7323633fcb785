import QuernModels
import QuernPipelines
import Testing

@Suite struct ConversationRequestTests {
    private func parse(_ text: String) throws(QuernError) -> Job { try RequestParser.parse(Array(text.utf8)) }

    private func failure(_ text: String) -> QuernError? {
        do throws(QuernError) {
            _ = try parse(text)
            return nil
        } catch {
            return error
        }
    }

    @Test func aChatNamesItsConversationAndForgetDeletesOne() throws {
        let chat = try parse(#"{"task": "chat", "conversation": "trip-1", "messages": [{"role": "user", "content": "And then?"}]}"#)
        #expect(chat.conversation == "trip-1")
        #expect(try parse(#"{"task": "forget", "conversation": "trip-1"}"#).request == .forget(conversation: "trip-1"))
        #expect(failure(#"{"task": "forget"}"#)?.code == .requestMissingField)
        #expect(failure(#"{"task": "chat", "conversation": "../x", "messages": [{"role": "user", "content": "x"}]}"#)?.code == .requestInvalidValue)
        #expect(failure(#"{"task": "chat", "conversation": 7, "messages": [{"role": "user", "content": "x"}]}"#)?.code == .requestWrongType)
        #expect(failure(#"{"task": "complete", "conversation": "a", "prompt": "x"}"#)?.code == .requestFieldNotApplicable)
        #expect(failure(#"{"task": "forget", "conversation": "a", "messages": []}"#)?.code == .requestFieldNotApplicable)
    }

    @Test func presenceAndFrequencyPenaltiesAreOpenAIs() throws {
        let job = try parse(#"{"task": "chat", "messages": [{"role": "user", "content": "x"}], "presence_penalty": -2, "frequency_penalty": 1.5}"#)
        guard case let .chat(_, sampling) = job.request else { Issue.record("not chat"); return }
        #expect(sampling.presencePenalty == -2 && sampling.frequencyPenalty == 1.5)
        // No seed in the request: none is parsed (the pipeline draws one and reports it).
        #expect(sampling.seed == nil)
        #expect(failure(#"{"task": "complete", "prompt": "x", "presence_penalty": 2.5}"#)?.code == .requestInvalidValue)
        #expect(failure(#"{"task": "complete", "prompt": "x", "frequency_penalty": -3}"#)?.code == .requestInvalidValue)
    }
}
