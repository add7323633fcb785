#!/usr/bin/env python3
"""Image corpus and open_nsfw goldens for Quern's PNG decoder, preprocessing
and image pipeline.

Writes
  Tests/QuernModelTests/Images/Corpus/good/*.png      every PNG variant + real photos
  Tests/QuernModelTests/Images/Corpus/broken/*.png    damaged files, each must be an error
  Tests/QuernModelTests/Images/Corpus/extreme/*.png   extreme shapes (1xN, Nx1, 10x4000, 7000x20, 3x3, portraits)
  Tests/QuernModelTests/Images/Goldens/image-goldens.json
  Tests/QuernModelTests/Images/Goldens/extreme-shape-goldens.json  (same entry format as "good")

For each good file the golden holds what Pillow 13 does with it (the RGB
conversion's sha256, the open_nsfw wrapper's `fast` preprocessing — Pillow
BILINEAR to 256x256, crop [16, 240), BGR minus (104, 117, 123), no JPEG step —
as a sha256 of the float32 NCHW bytes plus sample values; for some files the
torchvision ImageNet transform too) and ONNX Runtime's open_nsfw
probabilities and pooled 1024-d feature (`Reshape:0`, added as a graph
output). For each broken file: the error code Quern must give.

Exotic PNGs (1/2/4-bit, 16-bit, tRNS, Adam7, split and empty IDATs, chunk
order, ancillary chunks, damage) are written by the small PNG writer below.

Run: ~/.cache/quern/venv-reference/bin/python tools/goldens/make_image_goldens.py
"""
import hashlib
import io
import json
import os
import struct
import sys
import zlib

import numpy as np
import onnx
import onnxruntime as ort
import skimage.data
from PIL import Image

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OUT = os.path.join(ROOT, "Tests", "QuernModelTests", "Images")
GOOD = os.path.join(OUT, "Corpus", "good")
BROKEN = os.path.join(OUT, "Corpus", "broken")
EXTREME = os.path.join(OUT, "Corpus", "extreme")
MODEL = os.path.join(ROOT, "models", "open-nsfw", "open-nsfw.onnx")

# ---------------------------------------------------------------- PNG writer

SIGNATURE = b"\x89PNG\r\n\x1a\n"


def chunk(kind, data, crc=None):
    if crc is None:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)


def ihdr(width, height, depth, color, interlace=0, compression=0, filtering=0):
    return chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, depth, color, compression, filtering, interlace))


def channels_of(color):
    return {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}[color]


def pack_row(samples, depth):
    """One scanline of integer samples at `depth` bits, big-endian, MSB first."""
    if depth == 8:
        return bytes(np.asarray(samples, dtype=np.uint8))
    if depth == 16:
        return np.asarray(samples, dtype=">u2").tobytes()
    per_byte = 8 // depth
    out = bytearray()
    for start in range(0, len(samples), per_byte):
        value = 0
        group = list(samples[start:start + per_byte])
        group += [0] * (per_byte - len(group))
        for sample in group:
            value = (value << depth) | int(sample)
        out.append(value)
    return bytes(out)


ADAM7 = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]


def raw_image_data(pixels, depth, interlace, filters=(0,)):
    """Filtered scanlines (filter type None or Sub, cycled) of an [h, w, c] sample array."""
    h, w, c = pixels.shape

    def scanlines(image):
        out = bytearray()
        bytes_per_pixel = max(1, c * depth // 8)
        for y in range(image.shape[0]):
            row = pack_row(image[y].reshape(-1), depth)
            kind = filters[y % len(filters)]
            if kind == 1:  # Sub
                row = bytes((row[i] - (row[i - bytes_per_pixel] if i >= bytes_per_pixel else 0)) & 0xFF
                            for i in range(len(row)))
            out += bytes([kind]) + row
        return out

    if not interlace:
        return bytes(scanlines(pixels))
    out = bytearray()
    for x0, y0, dx, dy in ADAM7:
        sub = pixels[y0::dy, x0::dx]
        if sub.shape[0] == 0 or sub.shape[1] == 0:
            continue  # empty pass: no scanlines at all
        out += scanlines(sub)
    return bytes(out)


def png_bytes(pixels, depth, color, *, interlace=0, palette=None, trns=None, before_plte=(), before_idat=(),
              after_idat=(), idat_split=None, empty_idats=False, filters=(0,), data=None):
    h, w = pixels.shape[:2]
    out = SIGNATURE + ihdr(w, h, depth, color, interlace)
    for extra in before_plte:
        out += extra
    if palette is not None:
        out += chunk(b"PLTE", bytes(np.asarray(palette, dtype=np.uint8).reshape(-1)))
    if trns is not None:
        out += chunk(b"tRNS", trns)
    for extra in before_idat:
        out += extra
    compressed = data if data is not None else zlib.compress(raw_image_data(pixels, depth, interlace, filters), 9)
    pieces = [compressed] if not idat_split else [compressed[i:i + idat_split] for i in range(0, len(compressed), idat_split)]
    for index, piece in enumerate(pieces):
        if empty_idats and index % 2 == 0:
            out += chunk(b"IDAT", b"")
        out += chunk(b"IDAT", piece)
    if empty_idats:
        out += chunk(b"IDAT", b"")
    for extra in after_idat:
        out += extra
    return out + chunk(b"IEND", b"")


# ---------------------------------------------------------------- the corpus

def photo(name, size, box=None):
    array = getattr(skimage.data, name)()
    image = Image.fromarray(array)
    if box:
        image = image.crop(box)
    return image.resize(size, Image.Resampling.LANCZOS)


def good_files():
    """(name, bytes, description) for every good file."""
    files = []

    def pillow_png(image, **options):
        buffer = io.BytesIO()
        image.save(buffer, "PNG", optimize=True, **options)
        return buffer.getvalue()

    # Real photos, shrunk so the corpus stays small; sizes above and below 256
    # so the resize both shrinks (wide filter) and enlarges.
    files.append(("photo-astronaut-rgb.png", pillow_png(photo("astronaut", (300, 300))), "photo, RGB, downscaled"))
    files.append(("photo-coffee-rgb.png", pillow_png(photo("coffee", (210, 140))), "photo, RGB, upscaled"))
    files.append(("photo-chelsea-rgb.png", pillow_png(photo("chelsea", (271, 180))), "photo, RGB, non-square"))
    files.append(("photo-rocket-rgb.png", pillow_png(photo("rocket", (160, 240))), "photo, RGB, portrait"))
    files.append(("photo-camera-gray.png", pillow_png(photo("camera", (260, 260))), "photo, 8-bit gray"))
    files.append(("photo-logo-rgba.png", pillow_png(photo("logo", (200, 200))), "logo, RGBA with real alpha"))
    files.append(("photo-hubble-rgb.png", pillow_png(photo("hubble_deep_field", (180, 157))), "photo, RGB"))

    # Variants from one small crop of a photo: 37 x 29 (odd sizes reach every
    # Adam7 pass edge and sub-byte row padding).
    base = np.asarray(photo("chelsea", (37, 29), box=(120, 40, 340, 210)), dtype=np.uint8)
    gray8 = np.asarray(Image.fromarray(base).convert("L"), dtype=np.uint8)[..., None]
    rng = np.random.default_rng(6)
    alpha8 = rng.integers(0, 256, gray8.shape, dtype=np.uint8)
    # 16-bit samples: the 8-bit value in the high byte, noise in the low byte,
    # and the top-left corner below 256 so Pillow's I;16 clip is exercised.
    def widen(a8):
        a16 = a8.astype(np.uint16) * 256 + rng.integers(0, 256, a8.shape, dtype=np.uint16)
        a16[:4, :4] = rng.integers(0, 300, a16[:4, :4].shape, dtype=np.uint16)
        return a16

    for depth in (1, 2, 4):
        levels = (1 << depth) - 1
        g = (gray8.astype(np.uint32) * levels + 127) // 255
        files.append((f"gray{depth}.png", png_bytes(g, depth, 0), f"{depth}-bit gray"))
        files.append((f"gray{depth}-adam7.png", png_bytes(g, depth, 0, interlace=1), f"{depth}-bit gray, Adam7"))
    g4 = (gray8.astype(np.uint32) * 15 + 127) // 255
    files.append(("gray4-trns.png", png_bytes(g4, 4, 0, trns=struct.pack(">H", 7)), "4-bit gray, tRNS"))
    files.append(("gray8.png", png_bytes(gray8, 8, 0, filters=(0, 1)), "8-bit gray"))
    files.append(("gray8-trns.png", png_bytes(gray8, 8, 0, trns=struct.pack(">H", 128)), "8-bit gray, tRNS"))
    gray16 = widen(gray8)
    files.append(("gray16.png", png_bytes(gray16, 16, 0), "16-bit gray"))
    files.append(("gray16-trns-adam7.png", png_bytes(gray16, 16, 0, interlace=1, trns=struct.pack(">H", 300)),
                  "16-bit gray, tRNS, Adam7"))
    ga8 = np.concatenate([gray8, alpha8], axis=-1)
    files.append(("gray-alpha8.png", png_bytes(ga8, 8, 4), "8-bit gray+alpha"))
    files.append(("gray-alpha16.png", png_bytes(widen(ga8), 16, 4), "16-bit gray+alpha"))
    files.append(("rgb8.png", png_bytes(base, 8, 2, filters=(1, 0)), "8-bit RGB"))
    files.append(("rgb8-trns.png", png_bytes(base, 8, 2, trns=struct.pack(">HHH", *base[0, 0])), "8-bit RGB, tRNS"))
    files.append(("rgb8-adam7.png", png_bytes(base, 8, 2, interlace=1), "8-bit RGB, Adam7"))
    rgb16 = widen(base)
    files.append(("rgb16.png", png_bytes(rgb16, 16, 2), "16-bit RGB"))
    files.append(("rgb16-trns.png", png_bytes(rgb16, 16, 2, trns=struct.pack(">HHH", *rgb16[1, 1])), "16-bit RGB, tRNS"))
    rgba8 = np.concatenate([base, alpha8], axis=-1)
    files.append(("rgba8.png", png_bytes(rgba8, 8, 6), "8-bit RGBA"))
    files.append(("rgba16-adam7.png", png_bytes(widen(rgba8), 16, 6, interlace=1), "16-bit RGBA, Adam7"))
    for depth in (1, 2, 4, 8):
        colors = 1 << depth
        quantized = Image.fromarray(base).quantize(colors=colors, method=Image.Quantize.MEDIANCUT)
        indices = np.asarray(quantized, dtype=np.uint8)[..., None]
        used = int(indices.max()) + 1
        palette = np.asarray(quantized.getpalette()[: used * 3], dtype=np.uint8)
        files.append((f"palette{depth}.png", png_bytes(indices, depth, 3, palette=palette), f"{depth}-bit palette"))
        if depth in (2, 8):
            trns = bytes(rng.integers(0, 256, max(1, used - 1), dtype=np.uint8))  # shorter than the palette
            files.append((f"palette{depth}-trns.png", png_bytes(indices, depth, 3, palette=palette, trns=trns),
                          f"{depth}-bit palette, tRNS"))
        if depth == 4:
            files.append(("palette4-adam7.png", png_bytes(indices, depth, 3, palette=palette, interlace=1),
                          "4-bit palette, Adam7"))

    # Chunk layout.
    files.append(("rgb8-many-idats.png", png_bytes(base, 8, 2, idat_split=97), "IDAT split into 97-byte chunks"))
    files.append(("rgb8-empty-idats.png", png_bytes(base, 8, 2, idat_split=500, empty_idats=True),
                  "empty IDAT chunks between and after the data"))
    text = chunk(b"tEXt", b"Comment\x00Quern test image")
    ztxt = chunk(b"zTXt", b"Title\x00\x00" + zlib.compress(b"compressed text"))
    itxt = chunk(b"iTXt", b"Author\x00\x00\x00en\x00\x00Quern")
    phys = chunk(b"pHYs", struct.pack(">IIB", 2835, 2835, 1))
    gama = chunk(b"gAMA", struct.pack(">I", 45455))
    chrm = chunk(b"cHRM", struct.pack(">8I", 31270, 32900, 64000, 33000, 30000, 60000, 15000, 6000))
    srgb = chunk(b"sRGB", b"\x00")
    time_ = chunk(b"tIME", struct.pack(">HBBBBB", 2026, 11, 29, 12, 0, 0))
    private = chunk(b"quRn", b"private ancillary chunk, safe to ignore")
    sbit = chunk(b"sBIT", b"\x05\x06\x05")
    files.append(("rgb8-ancillary-chunks.png",
                  png_bytes(base, 8, 2, before_idat=(gama, chrm, srgb, phys, sbit, text, private),
                            after_idat=(ztxt, itxt, time_)), "ancillary chunks before and after IDAT"))
    palette_image = Image.fromarray(base).quantize(colors=16)
    indices = np.asarray(palette_image, dtype=np.uint8)[..., None]
    palette = np.asarray(palette_image.getpalette()[: (int(indices.max()) + 1) * 3], dtype=np.uint8)
    bkgd = chunk(b"bKGD", b"\x00")
    files.append(("palette8-chunk-order.png",
                  png_bytes(indices, 8, 3, palette=palette, before_plte=(gama, chrm, text, private), before_idat=(bkgd, phys),
                            after_idat=(time_, text)), "ancillary chunks before PLTE, between PLTE and IDAT, after IDAT"))
    tiny = base[:1, :1]
    files.append(("rgb8-1x1.png", png_bytes(tiny, 8, 2), "1x1 RGB"))
    files.append(("rgb8-3x2-adam7.png", png_bytes(base[:2, :3], 8, 2, interlace=1), "3x2 RGB, Adam7 with empty passes"))
    files.append(("rgb8-wide-300x3.png", png_bytes(np.asarray(photo("coffee", (300, 3))), 8, 2), "300x3 RGB"))
    return files


def broken_files():
    """(name, bytes, expected media error code, what is wrong)."""
    base = np.asarray(photo("chelsea", (37, 29), box=(120, 40, 340, 210)), dtype=np.uint8)
    good = png_bytes(base, 8, 2)
    raw = raw_image_data(base, 8, 0)
    compressed = zlib.compress(raw, 9)
    files = []

    def first_chunk_offset(data, kind):
        offset = 8
        while offset < len(data):
            length = struct.unpack(">I", data[offset:offset + 4])[0]
            if data[offset + 4:offset + 8] == kind:
                return offset, length
            offset += 12 + length
        raise KeyError(kind)

    def flip(data, position):
        out = bytearray(data)
        out[position] ^= 0x01
        return bytes(out)

    files.append(("empty.png", b"", "media.empty", "zero bytes"))
    jpeg = io.BytesIO()
    Image.fromarray(base).save(jpeg, "JPEG", quality=80)
    files.append(("jpeg-named-png.png", jpeg.getvalue(), "media.unrecognized", "a JPEG file named .png"))
    files.append(("bad-signature.png", flip(good, 1), "media.unrecognized", "signature byte changed"))
    files.append(("signature-only.png", SIGNATURE, "media.corrupt", "the signature and nothing else"))
    files.append(("ihdr-crc.png", flip(good, 8 + 8 + 3), "media.corrupt", "IHDR data changed, CRC no longer matches"))
    offset, length = first_chunk_offset(good, b"IDAT")
    files.append(("idat-crc.png", flip(good, offset + 8 + length // 2), "media.corrupt", "IDAT data changed, CRC no longer matches"))
    text = chunk(b"tEXt", b"Comment\x00damaged")
    text = text[:-1] + bytes([text[-1] ^ 0xFF])
    files.append(("ancillary-crc.png", png_bytes(base, 8, 2, before_idat=(text,)), "media.corrupt",
                  "tEXt chunk with a wrong CRC (strict: ancillary CRC errors are errors too)"))
    files.append(("truncated-in-idat.png", good[: offset + 8 + length // 2], "media.corrupt", "file cut inside IDAT"))
    iend = len(good) - 12
    files.append(("truncated-before-iend.png", good[:iend], "media.corrupt", "file cut after IDAT, no IEND"))
    files.append(("truncated-in-ihdr.png", good[:20], "media.corrupt", "file cut inside IHDR"))
    files.append(("missing-idat.png", SIGNATURE + ihdr(37, 29, 8, 2) + chunk(b"IEND", b""), "media.corrupt", "no IDAT chunk"))
    broken_zlib = bytearray(compressed)
    for position in range(10, len(broken_zlib) - 10, 7):
        broken_zlib[position] ^= 0x5A
    files.append(("broken-zlib.png", png_bytes(base, 8, 2, data=bytes(broken_zlib)), "media.corrupt",
                  "deflate data scrambled (CRCs recomputed)"))
    files.append(("zlib-not-enough-data.png", png_bytes(base, 8, 2, data=zlib.compress(raw[: len(raw) // 2], 9)),
                  "media.corrupt", "a complete zlib stream holding half the rows (libpng: not enough image data)"))
    files.append(("zlib-cut-short.png", png_bytes(base, 8, 2, data=compressed[: len(compressed) // 2]), "media.corrupt",
                  "zlib stream cut in the middle (CRCs recomputed)"))
    files.append(("zlib-too-much-data.png", png_bytes(base, 8, 2, data=zlib.compress(raw + raw[:200], 9)), "media.corrupt",
                  "zlib stream with extra bytes after the last row (libpng: too much image data, a benign error)"))
    bad_adler = compressed[:-4] + bytes(b ^ 0xFF for b in compressed[-4:])
    files.append(("zlib-bad-adler32.png", png_bytes(base, 8, 2, data=bad_adler), "media.corrupt", "wrong zlib Adler-32"))
    bad_filter = bytearray(raw)
    bad_filter[(37 * 3 + 1) * 5] = 9
    files.append(("bad-filter-type.png", png_bytes(base, 8, 2, data=zlib.compress(bytes(bad_filter))), "media.corrupt",
                  "scanline filter type 9"))
    for name, args, why in [
        ("ihdr-depth3.png", (37, 29, 3, 2), "bit depth 3"),
        ("ihdr-color1.png", (37, 29, 8, 1), "colour type 1"),
        ("ihdr-rgb-depth4.png", (37, 29, 4, 2), "RGB at 4 bits"),
        ("ihdr-palette-depth16.png", (37, 29, 16, 3), "palette at 16 bits"),
        ("ihdr-width0.png", (0, 29, 8, 2), "width 0"),
    ]:
        files.append((name, SIGNATURE + ihdr(*args) + chunk(b"IDAT", compressed) + chunk(b"IEND", b""), "media.corrupt", why))
    files.append(("ihdr-interlace2.png", SIGNATURE + ihdr(37, 29, 8, 2, interlace=2) + chunk(b"IDAT", compressed) + chunk(b"IEND", b""),
                  "media.corrupt", "interlace method 2"))
    files.append(("ihdr-compression1.png", SIGNATURE + ihdr(37, 29, 8, 2, compression=1) + chunk(b"IDAT", compressed) + chunk(b"IEND", b""),
                  "media.corrupt", "compression method 1"))
    files.append(("ihdr-filter1.png", SIGNATURE + ihdr(37, 29, 8, 2, filtering=1) + chunk(b"IDAT", compressed) + chunk(b"IEND", b""),
                  "media.corrupt", "filter method 1"))
    indices = (np.arange(37 * 29).reshape(29, 37, 1) % 4).astype(np.uint8)
    files.append(("palette-missing-plte.png", png_bytes(indices, 8, 3), "media.corrupt", "palette image without PLTE"))
    files.append(("palette-index-out-of-range.png", png_bytes(indices, 8, 3, palette=[[0, 0, 0], [255, 255, 255]]),
                  "media.corrupt", "indices 2 and 3 with a 2-entry palette"))
    files.append(("unknown-critical-chunk.png", png_bytes(base, 8, 2, before_idat=(chunk(b"QUrN", b"critical"),)),
                  "media.corrupt", "unknown critical chunk"))
    split = len(compressed) // 2
    files.append(("idat-interrupted.png",
                  SIGNATURE + ihdr(37, 29, 8, 2) + chunk(b"IDAT", compressed[:split]) + chunk(b"tEXt", b"a\x00b")
                  + chunk(b"IDAT", compressed[split:]) + chunk(b"IEND", b""), "media.corrupt", "IDAT chunks not consecutive"))
    files.append(("too-large-20000x20000.png", SIGNATURE + ihdr(20000, 20000, 8, 2) + chunk(b"IDAT", zlib.compress(b"\x00" * 1000))
                  + chunk(b"IEND", b""), "media.too_large", "400 megapixels declared (a decompression bomb)"))
    return files


def extreme_shape_files():
    """(name, bytes, description, with torchvision golden) for images of extreme
    shapes: strips one pixel across, 400:1 and 350:1 strips, a 3x3 image, and
    portraits. Pillow 13 runs its vertical pass first when the height shrinks
    by more than twice as many pixels as the width (python-pillow/Pillow#9549);
    the 8-bit intermediate between the passes then differs, so these shapes
    check the pass order on both sides of that rule. The torchvision transform
    is left out for the 1-pixel strips (Pillow would allocate 256 x 1,024,000)."""
    def pillow_png(image):
        buffer = io.BytesIO()
        image.save(buffer, "PNG", optimize=True)
        return buffer.getvalue()

    shapes = [
        ("photo-column-1x4000-rgb.png", "astronaut", (1, 4000), "1x4000 RGB: one column", False),
        ("photo-row-4000x1-rgb.png", "astronaut", (4000, 1), "4000x1 RGB: one row", False),
        ("photo-tall-10x4000-rgb.png", "rocket", (10, 4000), "10x4000 RGB (400:1): vertical pass first", True),
        ("photo-wide-4000x10-rgb.png", "rocket", (4000, 10), "4000x10 RGB (1:400): horizontal pass first", True),
        ("photo-wide-7000x20-rgb.png", "coffee", (7000, 20), "7000x20 RGB (350:1)", True),
        ("photo-tall-20x7000-rgb.png", "coffee", (20, 7000), "20x7000 RGB (1:350): vertical pass first", True),
        ("photo-tiny-3x3-rgb.png", "chelsea", (3, 3), "3x3 RGB", True),
        ("photo-portrait-200x300-rgb.png", "rocket", (200, 300),
         "200x300 portrait: open_nsfw's resize runs the vertical pass first", True),
        ("photo-portrait-260x540-rgb.png", "rocket", (260, 540),
         "260x540 portrait: torchvision's resize (to 256x531) runs the vertical pass first too", True),
    ]
    return [(name, pillow_png(photo(source, size)), description, torchvision)
            for name, source, size, description, torchvision in shapes]


# ---------------------------------------------------------------- references

def sha256(data):
    return hashlib.sha256(data).hexdigest()


def open_nsfw_fast(path):
    """The open_nsfw wrapper's preprocessing without its JPEG step, as NCHW float32."""
    image = Image.open(path).convert("RGB")
    image = image.resize((256, 256), resample=Image.Resampling.BILINEAR)
    image = image.crop((16, 16, 240, 240))
    array = np.array(image, dtype=np.float32)[:, :, ::-1] - np.array([104, 117, 123], dtype=np.float32)
    return np.ascontiguousarray(array.transpose(2, 0, 1)), np.ascontiguousarray(array[None])


def torchvision_imagenet(path):
    """torchvision Resize(256) + CenterCrop(224) + ToTensor + Normalize, with Pillow and numpy."""
    image = Image.open(path).convert("RGB")
    width, height = image.size
    short, long = min(width, height), max(width, height)
    new_short, new_long = 256, int(256 * long / short)
    size = (new_short, new_long) if width <= height else (new_long, new_short)
    if size != image.size:
        image = image.resize(size, resample=Image.Resampling.BILINEAR)
    top = int(round((size[1] - 224) / 2.0))
    left = int(round((size[0] - 224) / 2.0))
    image = image.crop((left, top, left + 224, top + 224))
    array = np.array(image, dtype=np.uint8).astype(np.float32) / np.float32(255)
    mean = np.array([0.485, 0.456, 0.406], dtype=np.float32)
    std = np.array([0.229, 0.224, 0.225], dtype=np.float32)
    array = (array - mean) / std
    return np.ascontiguousarray(array.transpose(2, 0, 1))


def samples(array):
    """A few values at fixed flat positions, so a failing test shows where."""
    flat = array.reshape(-1)
    positions = sorted({0, 1, 223, 224 * 112 + 112, flat.size // 3, flat.size // 2, flat.size - 1})
    return [[p, float(flat[p])] for p in positions]


def session_with_features():
    model = onnx.load(MODEL)
    feature = onnx.helper.make_tensor_value_info("Reshape:0", onnx.TensorProto.FLOAT, None)
    model.graph.output.append(feature)
    options = ort.SessionOptions()
    options.intra_op_num_threads = 2
    return ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])


def good_entry(session, path, name, description, full_features, torchvision):
    """The golden entry of one good file: Pillow's RGB, the open_nsfw input,
    ONNX Runtime's probabilities and features, and optionally the
    torchvision input."""
    with Image.open(path) as opened:
        mode = opened.mode
        rgb = opened.convert("RGB")
    nchw, nhwc = open_nsfw_fast(path)
    probabilities, features = session.run(["outputs", "Reshape:0"], {"input:0": nhwc})
    features = features.reshape(-1)
    entry = {
        "file": name, "description": description, "pillow_mode": mode,
        "width": rgb.size[0], "height": rgb.size[1],
        "rgb_sha256": sha256(np.asarray(rgb, dtype=np.uint8).tobytes()),
        "input_sha256": sha256(nchw.astype("<f4").tobytes()),
        "input_samples": samples(nchw),
        "probabilities": [float(v) for v in probabilities.reshape(-1)],
    }
    if full_features:
        entry["features"] = [float(v) for v in features]
    else:
        entry["features_prefix"] = [float(v) for v in features[:64]]
    entry["features_norm"] = float(np.linalg.norm(features.astype(np.float64)))
    if torchvision:
        imagenet = torchvision_imagenet(path)
        entry["torchvision_input_sha256"] = sha256(imagenet.astype("<f4").tobytes())
        entry["torchvision_input_samples"] = samples(imagenet)
        entry["torchvision_input_shape"] = list(imagenet.shape)
    return entry


def main():
    for folder in (GOOD, BROKEN, EXTREME):
        os.makedirs(folder, exist_ok=True)
        for name in os.listdir(folder):
            if name.endswith(".png"):
                os.remove(os.path.join(folder, name))
    session = session_with_features()
    goldens = {"generator": "tools/goldens/make_image_goldens.py", "pillow": Image.__version__,
               "onnxruntime": ort.__version__, "model": "models/open-nsfw/open-nsfw.onnx",
               "preprocessing": "open_nsfw fast: Pillow BILINEAR 256x256, crop [16,240), BGR minus (104,117,123), NCHW",
               "good": [], "broken": []}
    full_features = 0
    for name, data, description in good_files():
        path = os.path.join(GOOD, name)
        with open(path, "wb") as handle:
            handle.write(data)
        # Whole features for the photos; a prefix and the norm for the variants
        # keeps the JSON small (the variants share one picture).
        torchvision = name.startswith("photo-") or name in ("gray16.png", "palette8-trns.png", "rgb8-wide-300x3.png")
        entry = good_entry(session, path, name, description, name.startswith("photo-"), torchvision)
        full_features += "features" in entry
        goldens["good"].append(entry)
    for name, data, code, why in broken_files():
        path = os.path.join(BROKEN, name)
        with open(path, "wb") as handle:
            handle.write(data)
        try:
            with Image.open(path) as opened:
                opened.convert("RGB")
            pillow = "decodes"
        except Exception as error:  # noqa: BLE001 — any failure is information here
            pillow = f"{type(error).__name__}"
        goldens["broken"].append({"file": name, "code": code, "why": why, "pillow": pillow})
    os.makedirs(os.path.join(OUT, "Goldens"), exist_ok=True)
    with open(os.path.join(OUT, "Goldens", "image-goldens.json"), "w") as handle:
        json.dump(goldens, handle, indent=1)
        handle.write("\n")
    extreme = {key: goldens[key] for key in ("generator", "pillow", "onnxruntime", "model", "preprocessing")}
    extreme["good"] = []
    for name, data, description, torchvision in extreme_shape_files():
        path = os.path.join(EXTREME, name)
        with open(path, "wb") as handle:
            handle.write(data)
        extreme["good"].append(good_entry(session, path, name, description, True, torchvision))
    with open(os.path.join(OUT, "Goldens", "extreme-shape-goldens.json"), "w") as handle:
        json.dump(extreme, handle, indent=1)
        handle.write("\n")
    total = sum(os.path.getsize(os.path.join(d, n)) for d in (GOOD, BROKEN, EXTREME) for n in os.listdir(d))
    print(f"{len(goldens['good'])} good, {len(goldens['broken'])} broken, {len(extreme['good'])} extreme-shape files, "
          f"{total / 1024:.0f} KiB corpus, {full_features} full feature vectors", file=sys.stderr)


if __name__ == "__main__":
    main()
