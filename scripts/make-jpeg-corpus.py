#!/usr/bin/env python3
"""Generates the JPEG test corpus and its goldens with Pillow (and ONNX Runtime).

Run with the reference venv (tools/goldens/setup-reference-venv.sh):

    ~/.cache/quern/venv-reference/bin/python scripts/make-jpeg-corpus.py

Writes
  Tests/QuernMediaTests/Goldens/jpeg-corpus/*.jpg   small decoder cases (64×48 … 160×120)
  Tests/QuernMediaTests/Goldens/jpeg-goldens.json   per good file: Pillow's size, mode and
      the SHA-256 of ImageOps.exif_transpose(Image.open(f)).convert("RGB"); per broken
      file: the error code Quern gives and what Pillow does with it
  Tests/QuernModelTests/Images/Corpus/jpeg/*.jpg    real-size photos for the image pipeline
  Tests/QuernModelTests/Images/Goldens/jpeg-goldens.json   open_nsfw probabilities by ONNX
      Runtime on Pillow's decode of each photo (preprocessing as make_image_goldens.py)

Everything is deterministic: same Pillow/libjpeg-turbo, same bytes.
"""
import hashlib
import io
import json
import os
import random
import re
import struct
import sys

import numpy as np
import skimage.data
from PIL import Image, ImageOps, features

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MEDIA = os.path.join(ROOT, "Tests", "QuernMediaTests", "Goldens")
CORPUS = os.path.join(MEDIA, "jpeg-corpus")
PHOTOS = os.path.join(ROOT, "Tests", "QuernModelTests", "Images", "Corpus", "jpeg")
PHOTO_GOLDENS = os.path.join(ROOT, "Tests", "QuernModelTests", "Images", "Goldens", "jpeg-goldens.json")
MODEL = os.path.join(ROOT, "models", "open-nsfw", "open-nsfw.onnx")


def sha256(data):
    return hashlib.sha256(data).hexdigest()


def source(width, height, name="chelsea"):
    """A photo crop resized to width × height: real image statistics, small files."""
    image = Image.fromarray(getattr(skimage.data, name)())
    return image.resize((width, height), Image.Resampling.LANCZOS)


def encode(image, **options):
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", **options)
    return buffer.getvalue()


def exif(orientation, big_endian, with_make=False):
    """An APP1 Exif payload whose IFD0 holds Orientation (and optionally a Make
    string stored by offset, so the reader must walk past an entry)."""
    e = ">" if big_endian else "<"
    entries = []
    make = b"Quern test camera\0"
    count = 2 if with_make else 1
    ifd_size = 2 + 12 * count + 4
    if with_make:
        entries.append(struct.pack(e + "HHII", 0x010F, 2, len(make), 8 + ifd_size))
    entries.append(struct.pack(e + "HHIH", 0x0112, 3, 1, orientation) + b"\0\0")
    tiff = (b"MM" if big_endian else b"II") + struct.pack(e + "HI", 42, 8)
    tiff += struct.pack(e + "H", count) + b"".join(entries) + struct.pack(e + "I", 0)
    if with_make:
        tiff += make
    return b"Exif\0\0" + tiff


def xmp_with_orientation(orientation):
    return ('<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
            '<rdf:Description xmlns:tiff="http://ns.adobe.com/tiff/1.0/" tiff:Orientation="%d"/>'
            "</rdf:RDF></x:xmpmeta>" % orientation).encode()


def segments(data):
    """(marker, start, end) of each marker segment up to and including SOS."""
    found, offset = [], 2
    while offset < len(data):
        assert data[offset] == 0xFF
        marker = data[offset + 1]
        length = struct.unpack(">H", data[offset + 2:offset + 4])[0]
        found.append((marker, offset, offset + 2 + length))
        if marker == 0xDA:
            break
        offset += 2 + length
    return found


def segment(data, marker):
    return next((start, end) for m, start, end in segments(data) if m == marker)


def without_segment(data, marker):
    start, end = segment(data, marker)
    return data[:start] + data[end:]


def patched(data, offset, values):
    out = bytearray(data)
    out[offset:offset + len(values)] = values
    return bytes(out)


def scan_start(data):
    return segment(data, 0xDA)[1]


def good_files():
    files = []
    base = source(96, 64)
    odd = source(77, 53, "astronaut")
    files.append(("baseline-420.jpg", encode(base, quality=85, subsampling="4:2:0"), "baseline, 4:2:0"))
    files.append(("baseline-422.jpg", encode(base, quality=85, subsampling="4:2:2"), "baseline, 4:2:2"))
    files.append(("baseline-444.jpg", encode(base, quality=85, subsampling="4:4:4"), "baseline, 4:4:4"))
    files.append(("odd-size-420.jpg", encode(odd, quality=75, subsampling="4:2:0"), "77x53: partial MCUs at the edges, 4:2:0"))
    files.append(("odd-size-422.jpg", encode(odd, quality=75, subsampling="4:2:2"), "77x53, 4:2:2"))
    files.append(("quality-100.jpg", encode(base, quality=100, subsampling="4:4:4"), "quality 100"))
    files.append(("quality-10.jpg", encode(base, quality=10), "quality 10: heavy quantisation"))
    files.append(("optimized.jpg", encode(base, quality=85, optimize=True), "optimised Huffman tables"))
    files.append(("progressive-420.jpg", encode(base, quality=85, progressive=True), "progressive, 4:2:0"))
    files.append(("progressive-444.jpg", encode(odd, quality=90, progressive=True, subsampling="4:4:4"), "progressive, 4:4:4, 77x53"))
    files.append(("restart-blocks.jpg", encode(base, quality=85, restart_marker_blocks=3), "restart marker every 3 MCUs"))
    files.append(("restart-rows.jpg", encode(odd, quality=85, restart_marker_rows=1), "restart marker every MCU row"))
    files.append(("gray.jpg", encode(base.convert("L"), quality=85), "grayscale (1 component)"))
    files.append(("gray-progressive.jpg", encode(odd.convert("L"), quality=85, progressive=True), "grayscale, progressive"))
    cmyk = encode(base.convert("CMYK"), quality=90)
    files.append(("cmyk-adobe.jpg", cmyk, "CMYK with the Adobe APP14 marker (transform 0), Pillow's inverted polarity"))
    files.append(("cmyk-no-adobe.jpg", without_segment(cmyk, 0xEE), "CMYK without an Adobe marker"))
    files.append(("cmyk-progressive.jpg", encode(odd.convert("CMYK"), quality=80, progressive=True), "CMYK, progressive"))
    files.append(("rgb-keep.jpg", encode(base, quality=85, keep_rgb=True), "RGB components (Adobe transform 0), not YCbCr"))
    large = source(320, 240, "coffee")
    files.append(("large-320x240.jpg", encode(large, quality=80), "320x240, 4:2:0"))
    files.append(("large-progressive-320x240.jpg", encode(large, quality=80, progressive=True), "320x240 progressive"))
    wide = source(80, 48, "astronaut")
    for orientation in range(1, 9):
        big_endian = orientation % 2 == 0
        files.append((f"orientation-{orientation}.jpg",
                      encode(wide, quality=85, exif=exif(orientation, big_endian, with_make=orientation in (3, 6))),
                      f"EXIF orientation {orientation}, {'big' if big_endian else 'little'}-endian TIFF"))
    files.append(("orientation-6-gray.jpg", encode(wide.convert("L"), quality=85, exif=exif(6, False)), "grayscale, orientation 6"))
    files.append(("orientation-8-cmyk.jpg", encode(wide.convert("CMYK"), quality=85, exif=exif(8, True)), "CMYK, orientation 8"))
    files.append(("orientation-5-progressive.jpg", encode(wide, quality=85, progressive=True, exif=exif(5, True)), "progressive, orientation 5"))
    files.append(("orientation-9-invalid.jpg", encode(wide, quality=85, exif=exif(9, False)), "orientation 9: not a valid value, shown as stored"))
    files.append(("orientation-xmp-6.jpg", encode(wide, quality=85, xmp=xmp_with_orientation(6)), "no EXIF; XMP tiff:Orientation=6 (Pillow's fallback)"))
    normal = encode(base, quality=85)
    assert normal.endswith(b"\xff\xd9")
    files.append(("trailing-bytes.jpg", normal + b"not part of the image" * 3, "bytes after EOI"))
    return files


def broken_files():
    """(name, bytes, Quern's error code, description)."""
    rng = random.Random(15)
    base = source(96, 64)
    normal = encode(base, quality=85)
    progressive = encode(base, quality=85, progressive=True)
    sof_start = segment(normal, 0xC0)[0]
    files = []
    files.append(("truncated-scan.jpg", normal[:int(len(normal) * 0.6)], "media.corrupt", "baseline cut at 60%, inside the scan"))
    files.append(("truncated-progressive.jpg", progressive[:int(len(progressive) * 0.5)], "media.corrupt", "progressive cut at 50%"))
    files.append(("eoi-missing.jpg", normal[:-2], "media.corrupt", "every scanline present, only the EOI marker missing (Pillow refuses it too)"))
    files.append(("truncated-header.jpg", normal[:100], "media.corrupt", "cut after 100 bytes, inside the tables"))
    files.append(("soi-only.jpg", b"\xff\xd8", "media.corrupt", "only the start-of-image marker"))
    files.append(("garbage-after-soi.jpg", b"\xff\xd8\xff" + bytes(rng.randrange(256) for _ in range(300)), "media.corrupt",
                  "SOI then 300 random bytes"))
    dht_start, dht_end = segment(normal, 0xC4)
    bogus = patched(normal, dht_start + 5, b"\xff" * 16)  # 16 code counts of 255: more codes than bits allow
    files.append(("bad-huffman-table.jpg", bogus, "media.corrupt", "a DHT whose code counts are impossible"))
    scan = scan_start(normal)
    middle = scan + (len(normal) - scan) // 2
    files.append(("bad-huffman-code.jpg", patched(normal, middle, b"\xff\x00" * 24), "media.corrupt",
                  "48 bytes of all-ones entropy data: no Huffman code matches (libjpeg warns; Pillow decodes grey blocks)"))
    files.append(("stray-marker.jpg", patched(normal, middle, b"\xff\xd3"), "media.corrupt",
                  "an RST3 marker inside a scan without restarts (libjpeg warns; Pillow decodes)"))
    files.append(("zero-height.jpg", patched(normal, sof_start + 5, b"\x00\x00"), "media.corrupt", "the frame header declares height 0"))
    files.append(("zero-width.jpg", patched(normal, sof_start + 7, b"\x00\x00"), "media.corrupt", "the frame header declares width 0"))
    files.append(("bomb-65000x65000.jpg", patched(normal, sof_start + 5, struct.pack(">HH", 65000, 65000)), "media.too_large",
                  "a 96x64 file declaring 65000x65000 pixels (4.2 gigapixels)"))
    files.append(("no-frame-header.jpg", without_segment(normal, 0xC0), "media.corrupt", "scan data without any SOF"))
    files.append(("precision-12.jpg", patched(normal, sof_start + 4, b"\x0c"), "media.unsupported", "12-bit samples declared"))
    files.append(("lossless-sof3.jpg", patched(normal, sof_start + 1, b"\xc3"), "media.unsupported", "the lossless process (SOF3)"))
    files.append(("segment-overrun.jpg", patched(normal, 4, b"\xff\xff"), "media.corrupt", "the first segment's length runs past the end"))
    return files


def pillow_rgb(data):
    with Image.open(io.BytesIO(data)) as opened:
        mode = opened.mode
        rgb = ImageOps.exif_transpose(opened).convert("RGB")
    return mode, rgb


def pillow_outcome(data):
    try:
        mode, rgb = pillow_rgb(data)
        return f"decodes ({mode}, {rgb.size[0]}x{rgb.size[1]})"
    except Exception as error:  # noqa: BLE001 — what Pillow says is the point
        # (Without object addresses, so the goldens are the same every run.)
        return f"refuses: {type(error).__name__}: {re.sub(' at 0x[0-9a-f]+', '', str(error))}"


def media_goldens():
    os.makedirs(CORPUS, exist_ok=True)
    for name in os.listdir(CORPUS):
        os.remove(os.path.join(CORPUS, name))
    good, broken = [], []
    for name, data, description in good_files():
        with open(os.path.join(CORPUS, name), "wb") as file:
            file.write(data)
        mode, rgb = pillow_rgb(data)
        good.append({"file": name, "description": description, "pillow_mode": mode,
                     "width": rgb.size[0], "height": rgb.size[1],
                     "rgb_sha256": sha256(np.asarray(rgb, dtype=np.uint8).tobytes())})
    for name, data, code, description in broken_files():
        with open(os.path.join(CORPUS, name), "wb") as file:
            file.write(data)
        broken.append({"file": name, "code": code, "description": description, "pillow": pillow_outcome(data)})
    goldens = {"generator": "scripts/make-jpeg-corpus.py", "pillow": Image.__version__,
               "libjpeg": features.version("jpg"), "libjpeg_turbo": features.version_feature("libjpeg_turbo"),
               "good": good, "broken": broken}
    with open(os.path.join(MEDIA, "jpeg-goldens.json"), "w") as file:
        json.dump(goldens, file, indent=1)
        file.write("\n")
    total = sum(os.path.getsize(os.path.join(CORPUS, name)) for name in os.listdir(CORPUS))
    print(f"{len(good)} good and {len(broken)} broken decoder files, {total} bytes, in {CORPUS}")


def open_nsfw_input(data):
    """make_image_goldens.py's open_nsfw preprocessing on Pillow's upright RGB."""
    _, image = pillow_rgb(data)
    image = image.resize((256, 256), resample=Image.Resampling.BILINEAR).crop((16, 16, 240, 240))
    array = np.array(image, dtype=np.float32)[:, :, ::-1] - np.array([104, 117, 123], dtype=np.float32)
    return np.ascontiguousarray(array.transpose(2, 0, 1)), np.ascontiguousarray(array[None])


def photo_goldens():
    import onnx
    import onnxruntime as ort

    os.makedirs(PHOTOS, exist_ok=True)
    astronaut = Image.fromarray(skimage.data.astronaut())
    coffee = Image.fromarray(skimage.data.coffee())
    rocket = Image.fromarray(skimage.data.rocket())
    chelsea = Image.fromarray(skimage.data.chelsea())
    # A portrait shot as phones store it: pixels landscape, EXIF says turn them.
    portrait_stored = chelsea.transpose(Image.Transpose.ROTATE_90)
    photos = [
        ("astronaut-512.jpg", encode(astronaut, quality=90), "512x512 photo, baseline 4:2:0, quality 90"),
        ("coffee-600x400-progressive.jpg", encode(coffee, quality=85, progressive=True), "600x400 progressive"),
        ("rocket-427x640-444.jpg", encode(rocket, quality=92, subsampling="4:4:4"), "427x640 portrait, 4:4:4"),
        ("chelsea-orientation-6.jpg", encode(portrait_stored, quality=88, exif=exif(6, True, with_make=True)),
         "300x451 stored, EXIF orientation 6 (shown 451x300, as chelsea is)"),
        ("astronaut-cmyk.jpg", encode(astronaut.resize((384, 384), Image.Resampling.LANCZOS).convert("CMYK"), quality=90),
         "384x384 CMYK (Adobe)"),
        ("coffee-gray.jpg", encode(coffee.convert("L"), quality=85), "600x400 grayscale"),
    ]
    model = onnx.load(MODEL)
    model.graph.output.append(onnx.helper.make_tensor_value_info("Reshape:0", onnx.TensorProto.FLOAT, None))
    options = ort.SessionOptions()
    options.intra_op_num_threads = 2
    session = ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])
    entries = []
    for name, data, description in photos:
        with open(os.path.join(PHOTOS, name), "wb") as file:
            file.write(data)
        mode, rgb = pillow_rgb(data)
        nchw, nhwc = open_nsfw_input(data)
        probabilities, feature = session.run(["outputs", "Reshape:0"], {"input:0": nhwc})
        feature = feature.reshape(-1)
        entries.append({
            "file": name, "description": description, "pillow_mode": mode, "width": rgb.size[0], "height": rgb.size[1],
            "rgb_sha256": sha256(np.asarray(rgb, dtype=np.uint8).tobytes()),
            "input_sha256": sha256(nchw.astype("<f4").tobytes()),
            "probabilities": [float(v) for v in probabilities.reshape(-1)],
            "features_prefix": [float(v) for v in feature[:64]],
            "features_norm": float(np.linalg.norm(feature.astype(np.float64))),
        })
    goldens = {"generator": "scripts/make-jpeg-corpus.py", "pillow": Image.__version__, "onnxruntime": ort.__version__,
               "model": "models/open-nsfw/open-nsfw.onnx",
               "preprocessing": "Pillow exif_transpose + convert RGB, resize 256x256 bilinear, crop 16..240, BGR - (104,117,123)",
               "good": entries}
    with open(PHOTO_GOLDENS, "w") as file:
        json.dump(goldens, file, indent=1)
        file.write("\n")
    total = sum(len(data) for _, data, _ in photos)
    print(f"{len(photos)} photos, {total} bytes, in {PHOTOS}")


def main():
    media_goldens()
    if "--no-photos" not in sys.argv:
        photo_goldens()


if __name__ == "__main__":
    main()
