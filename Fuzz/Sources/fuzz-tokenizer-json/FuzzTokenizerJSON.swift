import FuzzSupport
import QuernTokenizers

// A tokenizer.json, through both loaders the models use — byte-level BPE
// (ByteLevelBPE(huggingFaceDirectory:), the chat models) and WordPiece
// (WordPieceTokenizer.load(tokenizerJSON:), the sentence embedder) — and a
// short fixed text through whichever loaded.
let sample = "Hello, world! It's 2024 — naïve café, 東京 🙂 [CLS] [SEP] <|endoftext|> unaffable\u{0}\u{301}"

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let path = FuzzInput.file("tokenizer.json", data, size)
    if let bpe = try? ByteLevelBPE(huggingFaceDirectory: FuzzInput.directory) {
        let ids = bpe.encode(sample, parseSpecial: true)
        blackHole(bpe.decode(ids))
        blackHole(bpe.encode(sample, parseSpecial: false))
    }
    if let wordPiece = try? WordPieceTokenizer.load(tokenizerJSON: path) {
        let ids = wordPiece.encode(sample, parseSpecial: true)
        blackHole(wordPiece.decode(ids))
        blackHole(try? wordPiece.windows(sample, maxLength: 8))
    }
    return 0
}
