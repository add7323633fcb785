#!/usr/bin/env bash
# Installs the native libraries Quern builds against (Debian/Ubuntu).
# Quick when everything is already there: apt runs only for what is missing.
set -euo pipefail

# systemd: `systemd-analyze verify` checks contrib/quern.service in the tests.
# python3-venv: the pinned openai client of the HTTP API test lives in a venv.
# postgresql: the queue tests start throw-away clusters (scripts/pg-cluster.sh).
packages=(libopenblas-dev libpng-dev libjpeg62-turbo-dev libsndfile1-dev zlib1g-dev pkg-config python3-pip python3-venv postgresql espeak-ng sox libsox-fmt-all systemd)
missing=()
for package in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done

if [ ${#missing[@]} -gt 0 ]; then
    sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    echo "quern: installing ${missing[*]}" >&2
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi

# The daemon tests check every result against schemas/result-v1.schema.json
# with python3's jsonschema.
if ! python3 -c 'import jsonschema' 2>/dev/null; then
    echo "quern: installing the python3 module jsonschema" >&2
    python3 -m pip install --quiet jsonschema >&2 || python3 -m pip install --quiet --break-system-packages jsonschema >&2
fi

# The metrics tests parse /metrics with the Prometheus project's own parser
# (prometheus_client.parser), through scripts/check-metrics.py.
if ! python3 -c 'import prometheus_client' 2>/dev/null; then
    echo "quern: installing the python3 module prometheus_client" >&2
    python3 -m pip install --quiet prometheus_client >&2 || python3 -m pip install --quiet --break-system-packages prometheus_client >&2
fi

# The transcript tests read Quern's SRT and WebVTT back with the subtitle
# parsers people use: PyPI's srt and webvtt-py.
if ! python3 -c 'import srt, webvtt' 2>/dev/null; then
    echo "quern: installing the python3 modules srt and webvtt-py" >&2
    python3 -m pip install --quiet srt webvtt-py >&2 || python3 -m pip install --quiet --break-system-packages srt webvtt-py >&2
fi

# The HTTP API test drives the daemon with the official OpenAI client, pinned,
# in a virtual environment of its own (it brings pydantic and httpx; the
# system python3 stays as it is). QUERN_OPENAI_PYTHON overrides the path.
openai_venv="${HOME}/.cache/quern/venv-openai"
openai_pins=(openai==3.60.0 srt==3.5.3 webvtt-py==0.6.0)
if ! "${openai_venv}/bin/python" -c 'import openai, srt, webvtt, sys; sys.exit(openai.__version__ != "3.60.0")' 2>/dev/null; then
    echo "quern: installing the pinned openai client into ${openai_venv}" >&2
    python3 -m venv "${openai_venv}" >&2
    "${openai_venv}/bin/pip" install --quiet "${openai_pins[@]}" >&2
fi

if ! command -v swift >/dev/null 2>&1; then
    echo "quern: a Swift 6 toolchain is needed (https://www.swift.org/install/linux/); 'swift' is not on PATH" >&2
    exit 1
fi
