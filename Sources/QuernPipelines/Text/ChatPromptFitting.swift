import QuernModels

/// Builds a chat prompt that fits the context, dropping whole turns after
/// the system message, oldest first (`drop_oldest_turns`).
///
/// Each message is tokenized once, as its own piece of the template
/// (`ChatTemplate.parts(of:)`). The template's markers are special tokens
/// that split the text, so the pieces' ids joined are the ids of the whole
/// rendered prompt, and a prompt with fewer turns costs the sum of the kept
/// pieces' counts. The kept turns are found walking back from the newest
/// message; a message whose byte length alone shows that it cannot fit
/// (`LoadedLanguageModel.minimumTokenCount`) is never tokenized, and
/// neither is anything older than it.
struct ChatPromptFitting {
    let model: LoadedLanguageModel
    let template: ChatTemplate
    /// Prompt tokens allowed (the context less the room kept for a reply).
    let budget: Int
    /// The context's length, for error messages.
    let contextLimit: Int

    struct Fitted {
        let tokens: [Int]
        let droppedMessages: Int
    }

    /// The prompt, and the number of turns dropped, that rendering the
    /// conversation, tokenizing it and dropping the oldest droppable turn
    /// until it fits would give — without tokenizing anything twice.
    func fit(_ messages: [ChatMessage]) throws(QuernError) -> Fitted {
        // A leading system message is never dropped. Without one, the
        // template puts its default system message (if it has one) before
        // the kept turns — unless the oldest kept turn is a system message.
        let pinnedSystem = messages.first?.role == "system"
        let firstDroppable = pinnedSystem ? 1 : 0
        let leadParts = template.beginParts + (pinnedSystem ? template.parts(of: messages[0]) : [])
        let tailParts = template.generationPromptParts
        let defaultSystemParts = pinnedSystem ? [] : template.defaultSystemPrompt.map { template.parts(of: ChatMessage(role: "system", content: $0)) } ?? []

        // What cannot fit, whatever is dropped, is refused before any tokenizing.
        let fixedMinimum = model.minimumTokenCount(for: leadParts + tailParts)
        let newestMinimum = messages.count > firstDroppable ? model.minimumTokenCount(for: template.parts(of: messages[messages.count - 1])) : 0
        guard fixedMinimum + newestMinimum <= budget else { throw tooLong(fixedMinimum + newestMinimum, exact: false) }

        let lead = model.tokens(for: leadParts)
        let tail = model.tokens(for: tailParts)
        let defaultSystem = model.tokens(for: defaultSystemParts)
        let fixed = lead.count + tail.count

        /// The ids before the kept turns, when the oldest kept one is `oldest`.
        func prefix(oldestKept oldest: ChatMessage?) -> [Int] {
            oldest?.role == "system" || pinnedSystem ? lead : lead + defaultSystem
        }
        /// The prompt's length, BOS included when the model adds it.
        func length(prefix: [Int], keptCount: Int, oldestKeptTokens: [Int]?) -> Int {
            let first = prefix.first ?? oldestKeptTokens?.first ?? tail.first
            return prefix.count + keptCount + tail.count + (model.needsBeginToken(before: first) ? 1 : 0)
        }

        guard messages.count > firstDroppable else {
            // Nothing to drop: the prompt is the fixed parts alone.
            let prefix = prefix(oldestKept: nil)
            let total = length(prefix: prefix, keptCount: 0, oldestKeptTokens: nil)
            guard total <= budget else { throw tooLong(total, exact: true) }
            return Fitted(tokens: model.withBeginToken(prefix + tail), droppedMessages: 0)
        }

        // Walk back from the newest message, remembering the oldest start
        // that fits. The kept turns' count only grows, so once it and the
        // fixed parts pass the budget no older start can fit.
        var kept: [[Int]] = []  // newest first
        var keptCount = 0
        var oldestFitting: Int?
        var newestAlone = (count: 0, exact: false)
        var start = messages.count
        while start > firstDroppable {
            let parts = template.parts(of: messages[start - 1])
            let minimum = model.minimumTokenCount(for: parts)
            if fixed + keptCount + minimum > budget {
                if kept.isEmpty { newestAlone = (fixed + minimum, false) }
                break
            }
            let tokens = model.tokens(for: parts)
            start -= 1
            kept.append(tokens)
            keptCount += tokens.count
            let total = length(prefix: prefix(oldestKept: messages[start]), keptCount: keptCount, oldestKeptTokens: tokens)
            if total <= budget { oldestFitting = start }
            if kept.count == 1 { newestAlone = (total, true) }
            if fixed + keptCount > budget { break }
        }
        guard let start = oldestFitting else { throw tooLong(newestAlone.count, exact: newestAlone.exact) }

        var tokens = prefix(oldestKept: messages[start])
        for message in kept[..<(messages.count - start)].reversed() { tokens += message }
        tokens += tail
        return Fitted(tokens: model.withBeginToken(tokens), droppedMessages: start - firstDroppable)
    }

    private func tooLong(_ count: Int, exact: Bool) -> QuernError {
        QuernError(.contextTooLong, exact
            ? "the newest message needs \(count) tokens with the chat template; the context holds \(contextLimit)"
            : "the newest message needs at least \(count) tokens with the chat template (judged from its length); the context holds \(contextLimit)")
    }
}
