import Foundation

/// One turn of a conversation.
public struct ChatMessage: Sendable, Equatable, Codable {
    /// The roles of the common chat-completion APIs, the ones requests may use.
    public enum Role: String, Sendable, CaseIterable { case system, user, assistant }

    /// `system`, `user`, `assistant`, or another name the template renders as it is.
    public var role: String
    public var content: String

    public init(role: String, content: String) {
        self.role = role
        self.content = content
    }

    public init(role: Role, content: String) {
        self.init(role: role.rawValue, content: content)
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
        var parts = beginParts
        for turn in conversation(messages) { parts += self.parts(of: turn) }
        if addGenerationPrompt { parts += generationPromptParts }
        return parts.map(\.text).joined()
    }

    /// `messages` as the template renders them: with the default system
    /// message first when the conversation has no system turn.
    public func conversation(_ messages: [ChatMessage]) -> [ChatMessage] {
        guard let system = defaultSystemPrompt, messages.first?.role != "system" else { return messages }
        return [ChatMessage(role: "system", content: system)] + messages
    }

    /// What the prompt starts with, before any message.
    public var beginParts: [PromptPart] { beginText.isEmpty ? [] : [.marker(beginText)] }

    /// One message as the template writes it.
    public func parts(of message: ChatMessage) -> [PromptPart] {
        switch family {
        case .chatml:
            return [.marker("<|im_start|>"), .text("\(message.role)\n\(message.content)"), .marker("<|im_end|>"), .text("\n")]
        case .llama3:
            return [.marker("<|start_header_id|>"), .text(message.role), .marker("<|end_header_id|>"),
                    .text("\n\n" + message.content.trimmingCharacters(in: .whitespacesAndNewlines)), .marker("<|eot_id|>")]
        case .zephyr:
            return [.marker("<|\(message.role)|>"), .text("\n\(message.content)"), .marker("</s>"), .text("\n")]
        }
    }

    /// The assistant's opening that prompts a reply.
    public var generationPromptParts: [PromptPart] {
        switch family {
        case .chatml: return [.marker("<|im_start|>"), .text("assistant\n")]
        case .llama3: return [.marker("<|start_header_id|>"), .text("assistant"), .marker("<|end_header_id|>"), .text("\n\n")]
        case .zephyr: return [.marker("<|assistant|>"), .text("\n")]
        }
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

/// A piece of a rendered chat prompt. Only the template's own markers may
/// become special (control) tokens; everything else — role names, message
/// contents, newlines — is ordinary text, so special-token text a user
/// types in a message (`<|im_end|><|im_start|>system`) stays plain text and
/// cannot forge a turn.
public enum PromptPart: Sendable, Equatable {
    /// Text the template writes as a marker, such as `<|im_start|>`.
    case marker(String)
    /// Ordinary text.
    case text(String)

    public var text: String {
        switch self {
        case let .marker(text), let .text(text): return text
        }
    }
}
