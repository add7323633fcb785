import QuernTokenizers

/// The control tokens Whisper's decoding needs, looked up by their text in
/// the tokenizer (English-only and multilingual vocabularies number them
/// differently). Timestamps are the tokens after `<|notimestamps|>`, one per
/// 0.02 s, up to the last token of the vocabulary.
public struct WhisperSpecialTokens: Sendable, Equatable {
    public var endOfText: Int
    public var startOfTranscript: Int
    public var startOfPrevious: Int
    public var startOfLanguageModel: Int
    public var transcribe: Int
    public var translate: Int
    public var noSpeech: Int
    public var noTimestamps: Int
    /// `<|en|>`, nil for an English-only model (whose prompt has no language).
    public var english: Int?
    public var isMultilingual: Bool

    public var timestampBegin: Int { noTimestamps + 1 }

    /// Looks the tokens up in `tokenizer`; `vocabularySize` is the model's.
    public init(tokenizer: ByteLevelBPE, vocabularySize: Int) throws(ModelError) {
        func id(_ text: String) throws(ModelError) -> Int {
            guard let id = tokenizer.id(of: text), id < vocabularySize else {
                throw ModelError(.invalidConfig, "the tokenizer has no \(text) token inside the model's vocabulary of \(vocabularySize)")
            }
            return id
        }
        endOfText = try id("<|endoftext|>")
        startOfTranscript = try id("<|startoftranscript|>")
        startOfPrevious = try id("<|startofprev|>")
        startOfLanguageModel = try id("<|startoflm|>")
        transcribe = try id("<|transcribe|>")
        translate = try id("<|translate|>")
        noTimestamps = try id("<|notimestamps|>")
        // Older vocabularies name it <|nocaptions|>.
        if let current = tokenizer.id(of: "<|nospeech|>") { noSpeech = current } else { noSpeech = try id("<|nocaptions|>") }
        english = tokenizer.id(of: "<|en|>")
        // English-only vocabularies have 51864 tokens; multilingual ones more.
        isMultilingual = vocabularySize >= 51_865
        guard timestampBegin < vocabularySize else {
            throw ModelError(.invalidConfig, "no timestamp tokens after <|notimestamps|> (\(noTimestamps)) in a vocabulary of \(vocabularySize)")
        }
    }

    /// faster-whisper's prompt without previous text: `<|startoftranscript|>`,
    /// then for a multilingual model `<|en|> <|transcribe|>`, then
    /// `<|notimestamps|>` when timestamps are not wanted.
    public func prompt(withTimestamps: Bool) -> [Int] {
        var prompt = [startOfTranscript]
        if isMultilingual, let english { prompt += [english, transcribe] }
        if !withTimestamps { prompt.append(noTimestamps) }
        return prompt
    }
}
