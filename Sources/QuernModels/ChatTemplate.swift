import Foundation

/// One turn of a conversation.
public struct ChatMessage: Sendable, Equatable, Codable {
    public var role: String
    public var content: String
    public init(role: String, content: String) {
        self.role = role
        self.content = content
    }
}

/// Renders a conversation into the prompt text a chat model was trained
/// on. Models ship their template as Jinja (`tokenizer.chat_template`);
/// Quern recognises the families in common use by their markers, as
/// llama.cpp's template detection does, and renders them natively:
///
/// - `chatml`: `<|im_start|>{role}\n{content}<|im_end|>\n` per message and
///   `<|im_start|>assistant\n` to prompt a reply (Qwen, SmolLM2, …). When
///   the template inserts a default system message (SmolLM2's "You are a
///   helpful AI assistant named SmolLM, …") that text is taken from the
///   template itself and used when the conversation has no system turn.
/// - `llama3`: `<|start_header_id|>{role}<|end_header_id|>\n\n{content}<|eot_id|>`.
/// - `zephyr`: `<|{role}|>\n{content}</s>\n`.
///
/// Any other template is an error unless the request or configuration
/// names one of these families.
public struct ChatTemplate: Sendable, Equatable {
    public enum Family: String, Sendable, CaseIterable { case chatml, llama3, zephyr }

    public let family: Family
    /// Inserted as the first message when the conversation has no system turn.
    public let defaultSystemPrompt: String?
    /// The beginning-of-sequence text some templates start with.
    public let beginText: String

    public init(family: Family, defaultSystemPrompt: String? = nil, beginText: String = "") {
        self.family = family
        self.defaultSystemPrompt = defaultSystemPrompt
        self.beginText = beginText
    }

    /// Recognises a Jinja template by its markers.
    public static func detect(jinja: String, beginText: String = "") -> ChatTemplate? {
        if jinja.contains("<|im_start|>") {
            // The newline after "system" is a real one in some templates and
            // an escaped "\n" inside a Jinja string in others.
            let system = defaultSystem(in: jinja, opening: "<|im_start|>system\n", closing: "<|im_end|>")
                ?? defaultSystem(in: jinja, opening: "<|im_start|>system\\n", closing: "<|im_end|>")
            return ChatTemplate(family: .chatml, defaultSystemPrompt: system)
        }
        if jinja.contains("<|start_header_id|>") {
            return ChatTemplate(family: .llama3, defaultSystemPrompt: nil, beginText: beginText)
        }
        if jinja.contains("<|user|>") && jinja.contains("<|assistant|>") {
            return ChatTemplate(family: .zephyr, defaultSystemPrompt: nil)
        }
        return nil
    }

    /// The literal system text a template writes when none is given: the
    /// quoted string between `opening` and `closing` (Jinja writes "\n" as
    /// an escape inside the quotes).
    static func defaultSystem(in jinja: String, opening: String, closing: String) -> String? {
        guard let start = jinja.range(of: opening) else { return nil }
        guard let end = jinja[start.upperBound...].range(of: closing) else { return nil }
        let literal = String(jinja[start.upperBound..<end.lowerBound])
        // Only a plain literal counts (not an expression such as a variable).
        guard !literal.contains("{{"), !literal.contains("'"), !literal.contains("\""), !literal.isEmpty else { return nil }
        return literal.replacingOccurrences(of: "\\n", with: "\n")
    }

    /// The prompt text for `messages`, ending with the assistant's opening
    /// when `addGenerationPrompt`.
    public func render(_ messages: [ChatMessage], addGenerationPrompt: Bool = true) -> String {
        var turns = messages
        if let system = defaultSystemPrompt, turns.first?.role != "system" {
            turns.insert(ChatMessage(role: "system", content: system), at: 0)
        }
        var out = beginText
        switch family {
        case .chatml:
            for turn in turns { out += "<|im_start|>\(turn.role)\n\(turn.content)<|im_end|>\n" }
            if addGenerationPrompt { out += "<|im_start|>assistant\n" }
        case .llama3:
            for turn in turns { out += "<|start_header_id|>\(turn.role)<|end_header_id|>\n\n\(turn.content.trimmingCharacters(in: .whitespacesAndNewlines))<|eot_id|>" }
            if addGenerationPrompt { out += "<|start_header_id|>assistant<|end_header_id|>\n\n" }
        case .zephyr:
            for turn in turns { out += "<|\(turn.role)|>\n\(turn.content)</s>\n" }
            if addGenerationPrompt { out += "<|assistant|>\n" }
        }
        return out
    }

    /// The token text that ends an assistant turn in this family.
    public var endOfTurn: String {
        switch family {
        case .chatml: return "<|im_end|>"
        case .llama3: return "<|eot_id|>"
        case .zephyr: return "</s>"
        }
    }
}
