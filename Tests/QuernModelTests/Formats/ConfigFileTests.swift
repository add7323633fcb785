import Foundation
import QuernFormats
import QuernModels
import QuernTestSupport
import QuernTokenizers
import Testing

/// Model configs are read into typed structs at the boundary: every broken
/// one is an error naming the file and then the line and column or the key
/// path, and an optional file that is present but broken is never skipped.
@Suite struct ConfigFileTests {
    func folder(_ files: [String: String]) throws -> String {
        let folder = try SafetensorsWriter.folder()
        for (name, text) in files {
            try FileManager.default.createDirectory(atPath: (folder + "/" + name as NSString).deletingLastPathComponent,
                                                    withIntermediateDirectories: true)
            try Data(text.utf8).write(to: URL(fileURLWithPath: folder + "/" + name))
        }
        return folder
    }

    static let bert = #"{"model_type": "bert", "vocab_size": 30, "hidden_size": 8, "num_hidden_layers": 1, "num_attention_heads": 2, "intermediate_size": 16, "max_position_embeddings": 32}"#

    @Test func aBadValueNamesTheFileAndTheKey() throws {
        let path = try folder(["config.json": Self.bert.replacingOccurrences(of: #""hidden_size": 8"#, with: #""hidden_size": "8""#)]) + "/config.json"
        #expect(throws: FormatError(.invalidValue, file: path, "hidden_size: expected an integer, got a string")) {
            try BERTModel.Config.load(path: path)
        }
        let missing = try folder(["config.json": Self.bert.replacingOccurrences(of: #""vocab_size": 30, "#, with: "")]) + "/config.json"
        #expect(throws: FormatError(.invalidValue, file: missing, "vocab_size: missing")) { try BERTModel.Config.load(path: missing) }
        #expect(try BERTModel.Config.load(path: try folder(["config.json": Self.bert]) + "/config.json").hiddenSize == 8)
    }

    @Test func badSyntaxNamesTheFileLineAndColumn() throws {
        let path = try folder(["config.json": "{\n  \"vocab_size\": 30,\n  \"vocab_size\": 31\n}"]) + "/config.json"
        #expect(throws: FormatError(.invalidValue, file: path, "not valid JSON: duplicate key \"vocab_size\" at line 3, column 3")) {
            try BERTModel.Config.load(path: path)
        }
    }

    @Test func optionalFilesAreOptionalButNeverSkippedWhenBroken() throws {
        let directory = try folder(["sentence_bert_config.json": #"{"max_seq_length": "long"}"#])
        #expect(try JSONFile.decodeIfPresent(SentenceBERTConfigFile.self, at: directory + "/absent.json") == nil)
        #expect(throws: FormatError(.invalidValue, file: directory + "/sentence_bert_config.json", "max_seq_length: expected an integer, got a string")) {
            try JSONFile.decodeIfPresent(SentenceBERTConfigFile.self, at: directory + "/sentence_bert_config.json")
        }
    }

    @Test func tokenIDsAreOneOrAList() throws {
        let one = try folder(["generation_config.json": #"{"eos_token_id": 2, "bos_token_id": null}"#])
        let config = try JSONFile.decode(GenerationConfigFile.self, at: one + "/generation_config.json")
        #expect(config.eosTokenID?.ids == [2] && config.bosTokenID == nil)
        let list = try folder(["generation_config.json": #"{"eos_token_id": [2, 7]}"#])
        #expect(try JSONFile.decode(GenerationConfigFile.self, at: list + "/generation_config.json").eosTokenID?.ids == [2, 7])
        let broken = try folder(["generation_config.json": #"{"eos_token_id": [2, "x"]}"#])
        #expect(throws: FormatError(.invalidValue, file: broken + "/generation_config.json", "eos_token_id[1]: expected an integer, got a string")) {
            try JSONFile.decode(GenerationConfigFile.self, at: broken + "/generation_config.json")
        }
    }

    @Test func byteLevelVocabularyErrorsNameTheFile() throws {
        let directory = try folder(["vocab.json": #"{"a": 0, "b": "one"}"#, "merges.txt": "#version: 0.2\na b\n"])
        #expect(throws: TokenizerError(.invalidValue, "\(directory)/vocab.json: the vocabulary entry \"b\" is not an integer id")) {
            try ByteLevelBPE(huggingFaceDirectory: directory)
        }
        let broken = try folder(["vocab.json": #"{"a": 0,"#, "merges.txt": "a b\n"])
        #expect(throws: TokenizerError(.invalidValue, "\(broken)/vocab.json: not valid JSON: expected a string key at line 1, column 9")) {
            try ByteLevelBPE(huggingFaceDirectory: broken)
        }
    }
}
