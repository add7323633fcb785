import FuzzSupport
import QuernFormats
import QuernModels

// A CTranslate2 model.bin: the reader (strings, variables, aliases), every
// option and tensor as the models read them, then the Whisper loader
// (WhisperModel.loadCTranslate2) on a folder holding the file.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let path = FuzzInput.file(CTranslate2Model.fileName, data, size)
    guard let model = try? CTranslate2Model(path: path) else { return 0 }
    for name in model.scalars.keys {
        blackHole(model.integerOption(name))
        blackHole(model.numericOption(name))
    }
    for alias in model.aliases.keys { blackHole(model.tensor(named: alias)?.shape) }
    TensorWalk.walk(model.tensors + Array(model.scalars.values), file: path)
    if let whisper = try? WhisperModel.loadCTranslate2(directory: FuzzInput.directory) { blackHole(whisper) }
    return 0
}
