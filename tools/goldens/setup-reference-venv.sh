#!/usr/bin/env bash
# Creates the Python environment that runs the reference engines for the
# golden generators and the benchmark scripts: sentence-transformers on CPU
# PyTorch (embeddings), ONNX Runtime + Pillow (images), faster-whisper /
# CTranslate2 + soxr (audio).
# It lives outside the repository: $QUERN_REFERENCE_VENV, default
# ~/.cache/quern/venv-reference. Idempotent.
#
# Usage: tools/goldens/setup-reference-venv.sh [--bench] [--images] [--audio] [--all]
#   --bench   ONNX Runtime for the embedding benchmark's extra column
#   --images  Pillow, scikit-image, ONNX Runtime (make_image_goldens.py, make_resnet_goldens.py, bench-images-*.py)
#   --audio   faster-whisper, soxr, scipy (make_audio_goldens.py, make_whisper_goldens.py, bench-whisper.py)
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
venv=${QUERN_REFERENCE_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/quern/venv-reference}
python=${PYTHON:-python3}

if [ ! -x "$venv/bin/python" ]; then
    mkdir -p "$(dirname "$venv")"
    "$python" -m venv "$venv"
fi
pip="$venv/bin/pip"

# torch: the CPU wheel from pip's find-links folder when the machine has one
# (no CUDA downloads); otherwise PyPI's CPU index is not reachable here, so
# fall back to the plain name.
if ! "$venv/bin/python" -c "import torch" 2>/dev/null; then
    links=$("$python" -m pip config get global.find-links 2>/dev/null || true)
    wheel=$(ls "${links:-/nonexistent}"/torch-2.13.0+cpu-*.whl 2>/dev/null | head -n 1 || true)
    if [ -n "$wheel" ]; then
        "$pip" install --quiet "$wheel"
    else
        "$pip" install --quiet "torch==2.13.0"
    fi
fi
"$pip" install --quiet -r "$here/requirements.txt"
for option in "$@"; do
    case "$option" in
        --bench) sets=(bench) ;;
        --images) sets=(images) ;;
        --audio) sets=(audio) ;;
        --all) sets=(bench images audio) ;;
        *) echo "setup-reference-venv.sh: unknown option $option" >&2; exit 2 ;;
    esac
    for set in "${sets[@]}"; do
        "$pip" install --quiet -r "$here/requirements-$set.txt"
    done
done
# A CUDA torchvision breaks `import transformers` next to the CPU torch.
"$pip" uninstall --yes --quiet torchvision 2>/dev/null || true

"$venv/bin/python" -c "import torch, transformers, sentence_transformers; print('reference venv:', '$venv', '| torch', torch.__version__, '| transformers', transformers.__version__, '| sentence-transformers', sentence_transformers.__version__)"
