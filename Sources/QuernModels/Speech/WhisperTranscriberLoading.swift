import Foundation
import QuernFormats
import QuernTensor
import QuernTokenizers

extension WhisperTranscriber {
    /// A model folder: the model (CTranslate2 `model.bin` or Hugging Face
    /// safetensors), `tokenizer.json`, and the suppress lists — CTranslate2's
    /// `config.json` (`suppress_ids`, `suppress_ids_begin`) or Hugging Face's
    /// `generation_config.json` (`suppress_tokens`, `begin_suppress_tokens`),
    /// and from the same file the `alignment_heads` word timestamps use.
    /// `precision` applies to the encoder's linear layers (`WhisperModel.converted`).
    public static func load(directory: String, precision: Precision = .float32) throws(ModelError) -> WhisperTranscriber {
        let model: WhisperModel
        do { model = try WhisperModel.load(directory: directory).converted(to: precision) } catch {
            throw ModelError(.invalidConfig, error.description)
        }
        let tokenizer: ByteLevelBPE
        do { tokenizer = try ByteLevelBPE(huggingFaceDirectory: directory) } catch {
            throw ModelError(.invalidConfig, "\(directory): \(error)")
        }
        var suppress: [Int] = [], begin: [Int] = [], heads: [[Int]] = []
        var configFile = directory + "/generation_config.json"
        do {
            if FileManager.default.fileExists(atPath: directory + "/" + CTranslate2Model.fileName) {
                let config = try JSONFile.decode(WhisperCTranslate2ConfigFile.self, at: directory + "/config.json")
                suppress = config.suppressIDs ?? []
                begin = config.suppressIDsBegin ?? []
                heads = config.alignmentHeads ?? []
                configFile = directory + "/config.json"
            } else if let generation = try JSONFile.decodeIfPresent(GenerationConfigFile.self, at: directory + "/generation_config.json") {
                suppress = generation.suppressTokens ?? []
                begin = generation.beginSuppressTokens ?? []
                heads = generation.alignmentHeads ?? []
            }
        } catch {
            throw ModelError(.invalidConfig, error.description)
        }
        var alignmentHeads: [WhisperAlignmentHead] = []
        for pair in heads {
            guard pair.count == 2, (0..<model.config.decoderLayers).contains(pair[0]), (0..<model.config.decoderHeads).contains(pair[1]) else {
                throw ModelError(.invalidConfig, "\(configFile): alignment_heads entry \(pair) is not a [layer, head] pair inside the decoder's \(model.config.decoderLayers) layers of \(model.config.decoderHeads) heads")
            }
            alignmentHeads.append(WhisperAlignmentHead(layer: pair[0], head: pair[1]))
        }
        return try WhisperTranscriber(model: model, tokenizer: tokenizer, suppressTokens: suppress, suppressAtBegin: begin,
                                      alignmentHeads: alignmentHeads)
    }
}
