import FuzzSupport
import QuernFormats
import QuernModels
import QuernTokenizers

// A .gguf file: the reader (metadata, tensor directory, data bounds), every
// metadata value through the typed getters, the tensors converted as the
// models do, the tokenizer it carries (and a short text through it), and
// LanguageModelLoader.load — what `quern serve` does with a model file.
let sample = "Hello, world! It's 2024 — naïve café, 東京 🙂\n\t<|im_start|>user x<|im_end|>"

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let path = FuzzInput.file("model.gguf", data, size)
    guard let gguf = try? GGUFFile(path: path) else { return 0 }
    for key in gguf.metadataKeys {
        blackHole(gguf.metadata[key]?.description)
        blackHole(try? gguf.integer(key))
        blackHole(try? gguf.float(key))
        blackHole(try? gguf.string(key))
        blackHole(try? gguf.strings(key))
        blackHole(try? gguf.integers(key))
    }
    TensorWalk.walk(gguf.tensors, file: path)
    if let tokenizer = try? ByteLevelBPE(gguf: gguf) {
        let ids = tokenizer.encode(sample, parseSpecial: true)
        blackHole(tokenizer.decode(ids))
        blackHole(tokenizer.decode([0, 1, -1, Int.max, tokenizer.vocabularySize]))
    }
    if let loaded = try? LanguageModelLoader.load(path: path) {
        blackHole(loaded.tokens(for: sample))
    }
    return 0
}
