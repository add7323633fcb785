import Foundation
import QuernFormats
import QuernTokenizers

extension WhisperTranscriber {
    /// A model folder: the model (CTranslate2 `model.bin` or Hugging Face
    /// safetensors), `tokenizer.json`, and the suppress lists — CTranslate2's
    /// `config.json` (`suppress_ids`, `suppress_ids_begin`) or Hugging Face's
    /// `generation_config.json` (`suppress_tokens`, `begin_suppress_tokens`).
    public static func load(directory: String) throws(ModelError) -> WhisperTranscriber {
        let model: WhisperModel
        do { model = try WhisperModel.load(directory: directory) } catch {
            throw ModelError(.invalidConfig, error.description)
        }
        let tokenizer: ByteLevelBPE
        do { tokenizer = try ByteLevelBPE(huggingFaceDirectory: directory) } catch {
            throw ModelError(.invalidConfig, "\(directory): \(error)")
        }
        var suppress: [Int] = [], begin: [Int] = []
        do {
            if FileManager.default.fileExists(atPath: directory + "/" + CTranslate2Model.fileName) {
                let config = try JSONFile.decode(WhisperCTranslate2ConfigFile.self, at: directory + "/config.json")
                suppress = config.suppressIDs ?? []
                begin = config.suppressIDsBegin ?? []
            } else if let generation = try JSONFile.decodeIfPresent(GenerationConfigFile.self, at: directory + "/generation_config.json") {
                suppress = generation.suppressTokens ?? []
                begin = generation.beginSuppressTokens ?? []
            }
        } catch {
            throw ModelError(.invalidConfig, error.description)
        }
        return try WhisperTranscriber(model: model, tokenizer: tokenizer, suppressTokens: suppress, suppressAtBegin: begin)
    }
}
