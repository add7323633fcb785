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
        let ctranslate2 = directory + "/config.json", huggingFace = directory + "/generation_config.json"
        if FileManager.default.fileExists(atPath: directory + "/" + CTranslate2Model.fileName) {
            suppress = try integers(in: ctranslate2, key: "suppress_ids")
            begin = try integers(in: ctranslate2, key: "suppress_ids_begin")
        } else if FileManager.default.fileExists(atPath: huggingFace) {
            suppress = try integers(in: huggingFace, key: "suppress_tokens")
            begin = try integers(in: huggingFace, key: "begin_suppress_tokens")
        }
        return try WhisperTranscriber(model: model, tokenizer: tokenizer, suppressTokens: suppress, suppressAtBegin: begin)
    }

    /// An integer list of a JSON file (absent key: empty).
    static func integers(in path: String, key: String) throws(ModelError) -> [Int] {
        let root: JSONNode
        do { root = try JSONNodeParser.parse(try RegularFile.read(path)) } catch { throw ModelError(.invalidConfig, "\(path): \(error)") }
        guard let node = root[key], !node.isNull else { return [] }
        guard let items = node.arrayValue else { throw ModelError(.invalidConfig, "\(path): \(key) is not a list") }
        var values: [Int] = []
        for item in items {
            guard let value = item.intValue else { throw ModelError(.invalidConfig, "\(path): \(key) holds a non-integer") }
            values.append(value)
        }
        return values
    }
}
