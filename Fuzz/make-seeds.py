#!/usr/bin/env python3
"""Writes the committed seed corpora, Fuzz/Corpus/<target>/, from scratch.

Deterministic and standard-library only: tiny valid files of every kind
each parser reads (every PNG colour type, PCM/float/extensible WAVs, a
complete one-layer llama GGUF with its tokenizer, safetensors of each
dtype, a small ResNet-shaped ONNX graph, a Whisper-spec CTranslate2
model.bin, BPE and WordPiece tokenizer.json files, one request per task,
model configs and JSON edge cases),
plus a few near-misses. Run from anywhere: python3 Fuzz/make-seeds.py
"""
import base64, json, math, os, shutil, struct, zlib

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "Corpus")


def save(target, name, data):
    folder = os.path.join(ROOT, target)
    os.makedirs(folder, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    assert len(data) <= 64 * 1024, (target, name, len(data))
    with open(os.path.join(folder, name), "wb") as f:
        f.write(data)


# ---------------------------------------------------------------- JPEG
# No JPEG encoder in the standard library: the seeds are copies of small
# files from the decoder's committed corpus (scripts/make-jpeg-corpus.py makes
# them with Pillow), one per feature, plus a few damaged ones.
JPEG_CORPUS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "QuernMediaTests", "Goldens", "jpeg-corpus")
JPEG_SEEDS = ["baseline-420.jpg", "baseline-422.jpg", "odd-size-420.jpg", "progressive-420.jpg", "restart-rows.jpg",
              "gray-progressive.jpg", "cmyk-adobe.jpg", "cmyk-progressive.jpg", "rgb-keep.jpg", "orientation-6.jpg",
              "orientation-xmp-6.jpg", "quality-10.jpg", "truncated-scan.jpg", "bad-huffman-table.jpg", "stray-marker.jpg",
              "bomb-65000x65000.jpg"]


def jpeg_seeds():
    for name in JPEG_SEEDS:
        with open(os.path.join(JPEG_CORPUS, name), "rb") as f:
            save("jpeg", name, f.read())


# ---------------------------------------------------------------- PNG
def png_chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def png(width, height, depth, color, rows, palette=None, trns=None, interlace=0, extra=b""):
    out = b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, depth, color, 0, 0, interlace))
    out += extra
    if palette:
        out += png_chunk(b"PLTE", bytes(palette))
    if trns is not None:
        out += png_chunk(b"tRNS", trns)
    raw = b"".join(b"\x00" + row for row in rows)
    return out + png_chunk(b"IDAT", zlib.compress(raw)) + png_chunk(b"IEND", b"")


def png_seeds():
    w, h = 5, 4
    def rows(bytes_per_row, f):
        return [bytes(f(x, y) & 0xFF for x in range(bytes_per_row)) for y in range(h)]
    save("png", "gray8.png", png(w, h, 8, 0, rows(w, lambda x, y: x * 50 + y)))
    save("png", "gray1.png", png(w, h, 1, 0, rows(1, lambda x, y: 0xA5 ^ y)))
    save("png", "gray4-trns.png", png(w, h, 4, 0, rows(3, lambda x, y: 0x1F * (x + y)), trns=b"\x00\x03"))
    save("png", "gray16.png", png(w, h, 16, 0, rows(2 * w, lambda x, y: x * 31 + y * 7)))
    save("png", "rgb8.png", png(w, h, 8, 2, rows(3 * w, lambda x, y: x * 17 + y * 29)))
    save("png", "rgb16-trns.png", png(w, h, 16, 2, rows(6 * w, lambda x, y: x * 13 + y), trns=b"\x00\x01\x00\x02\x00\x03"))
    palette = [v for i in range(4) for v in (i * 60, 255 - i * 60, i * 20)]
    save("png", "palette8.png", png(w, h, 8, 3, rows(w, lambda x, y: (x + y) % 4), palette=palette))
    save("png", "palette2-trns.png", png(w, h, 2, 3, rows(2, lambda x, y: 0x1B), palette=palette, trns=b"\x00\x80"))
    save("png", "graya8.png", png(w, h, 8, 4, rows(2 * w, lambda x, y: x * 40 + y)))
    save("png", "rgba8.png", png(w, h, 8, 6, rows(4 * w, lambda x, y: x * 11 + y * 3)))
    save("png", "rgba16.png", png(2, 2, 16, 6, [bytes(range(16)), bytes(range(16, 32))]))
    # Adam7: 8×8 RGB, each pass's rows filtered with type 0.
    passes = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]
    raw = b""
    for x0, y0, dx, dy in passes:
        cols = len(range(x0, 8, dx))
        for y in range(y0, 8, dy):
            raw += b"\x00" + bytes((x * 30 + y * 9 + c) & 0xFF for x in range(cols) for c in range(3))
    data = (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", struct.pack(">IIBBBBB", 8, 8, 8, 2, 0, 0, 1))
            + png_chunk(b"IDAT", zlib.compress(raw)) + png_chunk(b"IEND", b""))
    save("png", "adam7-rgb8.png", data)
    # Ancillary chunks that are skipped, and a tall strip the resize must handle.
    save("png", "chunks-gray8.png", png(w, h, 8, 0, rows(w, lambda x, y: x),
                                        extra=png_chunk(b"gAMA", struct.pack(">I", 45455)) + png_chunk(b"tEXt", b"k\x00v")))
    save("png", "strip-1x300.png", png(1, 300, 8, 0, [bytes([y & 0xFF]) for y in range(300)]))
    # Near misses: truncated before IEND, wrong CRC.
    good = png(w, h, 8, 2, rows(3 * w, lambda x, y: x))
    save("png", "truncated.png", good[:-12])
    bad = bytearray(good); bad[29] ^= 1
    save("png", "bad-crc.png", bytes(bad))


# ---------------------------------------------------------------- WAV
def wav(channels, rate, bits, frames, fmt=1, extensible=False, data_size=None):
    block = channels * bits // 8
    samples = b""
    for i in range(frames):
        for c in range(channels):
            v = math.sin(2 * math.pi * 440 * i / rate + c)
            if fmt == 3:
                samples += struct.pack("<f" if bits == 32 else "<d", v * 0.5)
            elif bits == 8:
                samples += bytes([int(128 + 100 * v) & 0xFF])
            elif bits == 16:
                samples += struct.pack("<h", int(20000 * v))
            elif bits == 24:
                samples += struct.pack("<i", int(4_000_000 * v))[:3]
            else:
                samples += struct.pack("<i", int(1_000_000_000 * v))
    if extensible:
        subformat = struct.pack("<H", fmt) + b"\x00\x00\x00\x00\x10\x00\x80\x00\x00\xaa\x00\x38\x9b\x71"
        fmt_chunk = struct.pack("<HHIIHHHHI", 0xFFFE, channels, rate, rate * block, block, bits, 22, bits, 3 if channels == 2 else 4) + subformat
    else:
        fmt_chunk = struct.pack("<HHIIHH", fmt, channels, rate, rate * block, block, bits)
    size = len(samples) if data_size is None else data_size
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt_chunk)) + fmt_chunk + b"data" + struct.pack("<I", size) + samples
    return b"RIFF" + struct.pack("<I", len(body)) + body


def audio_seeds():
    save("audio", "pcm16-mono-16k.wav", wav(1, 16000, 16, 400))
    save("audio", "pcm8-stereo-8k.wav", wav(2, 8000, 8, 300))
    save("audio", "pcm24-mono-44k1.wav", wav(1, 44100, 24, 300))
    save("audio", "pcm32-stereo-48k.wav", wav(2, 48000, 32, 200))
    save("audio", "float32-mono-22k05.wav", wav(1, 22050, 32, 300, fmt=3))
    save("audio", "float64-mono-16k.wav", wav(1, 16000, 64, 100, fmt=3))
    save("audio", "extensible-pcm16-stereo.wav", wav(2, 32000, 16, 300, extensible=True))
    save("audio", "declares-more-than-present.wav", wav(1, 16000, 16, 100, data_size=32000))
    # AIFF, 16-bit mono (libsndfile reads more than WAV).
    frames = 200
    samples = b"".join(struct.pack(">h", int(10000 * math.sin(i / 5))) for i in range(frames))
    rate80 = bytes.fromhex("400CFA00000000000000")  # 16000 as an 80-bit extended float
    comm = struct.pack(">hIh", 1, frames, 16) + rate80
    ssnd = struct.pack(">II", 0, 0) + samples
    body = b"AIFF" + b"COMM" + struct.pack(">I", len(comm)) + comm + b"SSND" + struct.pack(">I", len(ssnd)) + ssnd
    save("audio", "pcm16-mono.aiff", b"FORM" + struct.pack(">I", len(body)) + body)


# ---------------------------------------------------------------- GGUF
def bytes_to_unicode():
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b); cs.append(256 + n); n += 1
    return {b: chr(c) for b, c in zip(bs, cs)}


BYTE_TOKENS = [bytes_to_unicode()[b] for b in range(256)]
MERGES = ["Ġ t", "h e", "Ġt he", "l l", "ll o", "H e", "He llo"]
MERGED = ["Ġt", "he", "Ġthe", "ll", "llo", "He", "Hello"]
SPECIAL = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]


def gguf_string(s):
    b = s.encode()
    return struct.pack("<Q", len(b)) + b


def gguf_value(value):
    kind, v = value
    if kind == "u32": return struct.pack("<I", 4) + struct.pack("<I", v)
    if kind == "i32": return struct.pack("<I", 5) + struct.pack("<i", v)
    if kind == "f32": return struct.pack("<I", 6) + struct.pack("<f", v)
    if kind == "bool": return struct.pack("<I", 7) + bytes([int(v)])
    if kind == "str": return struct.pack("<I", 8) + gguf_string(v)
    if kind == "u64": return struct.pack("<I", 10) + struct.pack("<Q", v)
    if kind == "strs": return struct.pack("<I", 9) + struct.pack("<IQ", 8, len(v)) + b"".join(gguf_string(s) for s in v)
    if kind == "i32s": return struct.pack("<I", 9) + struct.pack("<IQ", 5, len(v)) + b"".join(struct.pack("<i", x) for x in v)
    raise ValueError(kind)


def f16(x):
    return struct.pack("<e", x)


def quantize_q8_0(values):
    out = b""
    for i in range(0, len(values), 32):
        block = values[i:i + 32]
        scale = max(abs(v) for v in block) / 127 or 1.0
        out += f16(scale) + bytes((round(v / scale)) & 0xFF for v in block)
    return out


def gguf(metadata, tensors, version=3, alignment=32):
    out = b"GGUF" + struct.pack("<IQQ", version, len(tensors), len(metadata))
    for key, value in metadata:
        out += gguf_string(key) + gguf_value(value)
    offset, blobs = 0, []
    for name, shape, kind, data in tensors:
        offset = (offset + alignment - 1) // alignment * alignment
        out += gguf_string(name) + struct.pack("<I", len(shape)) + b"".join(struct.pack("<Q", d) for d in reversed(shape))
        out += struct.pack("<IQ", kind, offset)
        blobs.append((offset, data))
        offset += len(data)
    out += b"\x00" * ((-len(out)) % alignment)
    data = bytearray()
    for at, blob in blobs:
        data += b"\x00" * (at - len(data)) + blob
    return out + bytes(data)


def values(n, seed):
    return [math.sin(seed * 7.1 + i * 0.37) * 0.2 for i in range(n)]


def f32s(vs):
    return b"".join(struct.pack("<f", v) for v in vs)


def gguf_seeds():
    tokens = BYTE_TOKENS + MERGED + SPECIAL
    vocab, hidden, heads, ff = len(tokens), 32, 2, 32
    meta = [
        ("general.architecture", ("str", "llama")),
        ("general.name", ("str", "tiny")),
        ("llama.block_count", ("u32", 1)),
        ("llama.context_length", ("u32", 64)),
        ("llama.embedding_length", ("u32", hidden)),
        ("llama.feed_forward_length", ("u32", ff)),
        ("llama.attention.head_count", ("u32", heads)),
        ("llama.attention.head_count_kv", ("u32", 1)),
        ("llama.rope.freq_base", ("f32", 10000.0)),
        ("llama.attention.layer_norm_rms_epsilon", ("f32", 1e-5)),
        ("tokenizer.ggml.model", ("str", "gpt2")),
        ("tokenizer.ggml.pre", ("str", "smollm")),
        ("tokenizer.ggml.tokens", ("strs", tokens)),
        ("tokenizer.ggml.token_type", ("i32s", [1] * (vocab - 3) + [3, 3, 3])),
        ("tokenizer.ggml.merges", ("strs", MERGES)),
        ("tokenizer.ggml.bos_token_id", ("u32", vocab - 2)),
        ("tokenizer.ggml.eos_token_id", ("u32", vocab - 1)),
        ("tokenizer.ggml.add_bos_token", ("bool", False)),
        ("tokenizer.chat_template", ("str", "{% for message in messages %}<|im_start|>{{ message['role'] }}\n{{ message['content'] }}<|im_end|>\n{% endfor %}")),
    ]
    kv = hidden // heads
    tensors = [
        ("token_embd.weight", [vocab, hidden], 8, quantize_q8_0(values(vocab * hidden, 1))),
        ("output_norm.weight", [hidden], 0, f32s([1.0] * hidden)),
        ("blk.0.attn_norm.weight", [hidden], 0, f32s([1.0] * hidden)),
        ("blk.0.attn_q.weight", [hidden, hidden], 1, b"".join(f16(v) for v in values(hidden * hidden, 2))),
        ("blk.0.attn_k.weight", [kv, hidden], 8, quantize_q8_0(values(kv * hidden, 3))),
        ("blk.0.attn_v.weight", [kv, hidden], 0, f32s(values(kv * hidden, 4))),
        ("blk.0.attn_output.weight", [hidden, hidden], 0, f32s(values(hidden * hidden, 5))),
        ("blk.0.ffn_norm.weight", [hidden], 0, f32s([1.0] * hidden)),
        ("blk.0.ffn_gate.weight", [ff, hidden], 0, f32s(values(ff * hidden, 6))),
        ("blk.0.ffn_up.weight", [ff, hidden], 0, f32s(values(ff * hidden, 7))),
        ("blk.0.ffn_down.weight", [hidden, ff], 0, f32s(values(hidden * ff, 8))),
    ]
    save("gguf", "llama-1layer.gguf", gguf(meta, tensors))
    # Every metadata value type, Q4_0/Q4_1/BF16 tensors, version 2, custom alignment.
    q4_0 = f16(0.5) + bytes(range(16))
    q4_1 = f16(0.5) + f16(-1.0) + bytes(range(16, 32))
    odd = [("general.alignment", ("u32", 64)), ("a.u64", ("u64", 1 << 40)), ("a.i32", ("i32", -5)),
           ("a.bool", ("bool", True)), ("a.f", ("f32", 0.25)), ("a.strs", ("strs", ["x", "", "é"])),
           ("a.nested", ("strs", []))]
    save("gguf", "types-v2.gguf", gguf(odd, [("q4_0", [32], 2, q4_0), ("q4_1", [1, 32], 3, q4_1),
                                             ("bf16", [2, 2], 30, b"\x80\x3f" * 4)], version=2, alignment=64))
    save("gguf", "empty-v3.gguf", gguf([], []))


# ---------------------------------------------------------------- safetensors
def safetensors(entries, metadata=None, pad=0):
    header, data = {}, b""
    for name, dtype, shape, blob in entries:
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [len(data), len(data) + len(blob)]}
        data += blob
    if metadata is not None:
        header["__metadata__"] = metadata
    text = json.dumps(header).encode() + b" " * pad
    return struct.pack("<Q", len(text)) + text + data


def safetensors_seeds():
    save("safetensors", "f32-f16-bf16.safetensors", safetensors([
        ("a.weight", "F32", [2, 3], f32s(values(6, 1))),
        ("b.weight", "F16", [4], b"".join(f16(v) for v in values(4, 2))),
        ("c.bias", "BF16", [2, 1], b"\x80\x3f\x00\x40"),
    ], metadata={"format": "pt"}, pad=5))
    save("safetensors", "ints-bool-scalar.safetensors", safetensors([
        ("position_ids", "I64", [1, 3], struct.pack("<3q", 0, 1, 2)),
        ("mask", "BOOL", [3], b"\x01\x00\x01"),
        ("u8", "U8", [2], b"\x07\x09"),
        ("scalar", "F32", [], f32s([3.5])),
        ("empty", "F32", [0, 4], b""),
        ("d", "F64", [1], struct.pack("<d", 1.5)),
        ("i8", "I8", [2], b"\x01\xff"), ("i16", "I16", [1], b"\x01\x00"), ("i32", "I32", [1], b"\x01\x00\x00\x00"),
    ]))
    save("safetensors", "empty.safetensors", safetensors([]))


# ---------------------------------------------------------------- ONNX (protobuf written by hand)
def varint(n):
    n &= (1 << 64) - 1
    out = b""
    while True:
        b = n & 0x7F
        n >>= 7
        out += bytes([b | (0x80 if n else 0)])
        if not n:
            return out


def field(number, wire, payload):
    key = varint(number << 3 | wire)
    if wire == 0:
        return key + varint(payload)
    if wire == 2:
        return key + varint(len(payload)) + payload
    if wire == 5:
        return key + payload
    raise ValueError(wire)


def s(number, text):
    return field(number, 2, text.encode() if isinstance(text, str) else text)


def onnx_tensor(name, dims, floats=None, ints=None, raw=True):
    out = b"".join(field(1, 0, d) for d in dims)
    if ints is not None:
        out += field(2, 0, 7) + s(8, name) + s(9, b"".join(struct.pack("<q", v) for v in ints))
        return out
    out += field(2, 0, 1) + s(8, name)
    if raw:
        out += s(9, f32s(floats))
    else:
        out += s(4, f32s(floats))  # packed float_data
    return out


def attr_ints(name, vs):
    return s(1, name) + field(20, 0, 7) + b"".join(field(8, 0, v) for v in vs)


def attr_int(name, v):
    return s(1, name) + field(20, 0, 2) + field(3, 0, v)


def attr_float(name, v):
    return s(1, name) + field(20, 0, 1) + field(2, 5, struct.pack("<f", v))


def node(op, inputs, outputs, attrs=(), name=""):
    out = b"".join(s(1, i) for i in inputs) + b"".join(s(2, o) for o in outputs)
    if name:
        out += s(3, name)
    out += s(4, op)
    out += b"".join(s(5, a) for a in attrs)
    return out


def value_info(name, dims):
    shape = b"".join(s(1, field(1, 0, d)) for d in dims)
    tensor_type = field(1, 0, 1) + s(2, shape)
    return s(1, name) + s(2, s(1, tensor_type))


def onnx_model(nodes, initializers, inputs, outputs, ir=8, opset=13):
    graph = b"".join(s(1, n) for n in nodes) + s(2, "g") + b"".join(s(5, t) for t in initializers)
    graph += b"".join(s(11, v) for v in inputs) + b"".join(s(12, v) for v in outputs)
    return field(1, 0, ir) + s(2, "make-seeds") + s(7, graph) + s(8, s(1, "") + field(2, 0, opset))


def onnx_seeds():
    c, classes = 4, 2
    conv = lambda name, cout, cin, k: onnx_tensor(name, [cout, cin, k, k], values(cout * cin * k * k, len(name)))
    bn = lambda p, ch: [onnx_tensor(p + ".scale", [ch], [1.0] * ch), onnx_tensor(p + ".bias", [ch], [0.0] * ch),
                        onnx_tensor(p + ".mean", [ch], [0.0] * ch), onnx_tensor(p + ".var", [ch], [1.0] * ch, raw=False)]
    inits = [conv("stem.w", c, 3, 3)] + bn("stem.bn", c) + [conv("b1.w1", c, c, 3), conv("b1.w2", c, c, 3)]
    inits += [onnx_tensor("fc.w", [classes, c], values(classes * c, 9)), onnx_tensor("fc.b", [classes], [0.1, -0.1])]
    inits += [onnx_tensor("shape", [2], ints=[1, -1])]
    pads = attr_ints("pads", [1, 1, 1, 1])
    nodes = [
        node("Conv", ["x", "stem.w"], ["s1"], [attr_ints("kernel_shape", [3, 3]), pads, attr_ints("strides", [2, 2])], "stem_conv"),
        node("BatchNormalization", ["s1", "stem.bn.scale", "stem.bn.bias", "stem.bn.mean", "stem.bn.var"], ["s2"], [attr_float("epsilon", 1e-5)]),
        node("Relu", ["s2"], ["s3"]),
        node("MaxPool", ["s3"], ["p"], [attr_ints("kernel_shape", [3, 3]), pads, attr_ints("strides", [2, 2])]),
        node("Conv", ["p", "b1.w1"], ["c1"], [attr_ints("kernel_shape", [3, 3]), pads]),
        node("Relu", ["c1"], ["r1"]),
        node("Conv", ["r1", "b1.w2"], ["c2"], [attr_ints("kernel_shape", [3, 3]), pads]),
        node("Add", ["c2", "p"], ["a1"]),
        node("Relu", ["a1"], ["r2"]),
        node("GlobalAveragePool", ["r2"], ["gap"]),
        node("Reshape", ["gap", "shape"], ["flat"]),
        node("Gemm", ["flat", "fc.w", "fc.b"], ["logits"], [attr_int("transB", 1)]),
        node("Softmax", ["logits"], ["prob"], [attr_int("axis", 1)]),
    ]
    save("onnx", "resnet-tiny.onnx", onnx_model(nodes, inits, [value_info("x", [1, 3, 16, 16])], [value_info("prob", [1, classes])]))
    save("onnx", "matmul-flatten.onnx", onnx_model(
        [node("Flatten", ["x"], ["f"], [attr_int("axis", 1)]), node("MatMul", ["f", "w"], ["y"]),
         node("Constant", [], ["k"], [s(1, "value") + field(20, 0, 4) + s(5, onnx_tensor("", [1], [2.0]))])],
        [onnx_tensor("w", [4, 2], values(8, 3), raw=False)], [value_info("x", [1, 4])], [value_info("y", [1, 2])], ir=7, opset=11))
    save("onnx", "no-graph.onnx", field(1, 0, 8))


# ---------------------------------------------------------------- CTranslate2
def ct2_string(text):
    b = text.encode() + b"\x00"
    return struct.pack("<H", len(b)) + b


def ct2(spec, variables, aliases=(), revision=3, version=6):
    out = struct.pack("<I", version) + ct2_string(spec) + struct.pack("<II", revision, len(variables))
    for name, shape, dtype, blob in variables:
        out += ct2_string(name) + struct.pack("<B", len(shape)) + b"".join(struct.pack("<I", d) for d in shape)
        out += struct.pack("<BI", dtype, len(blob)) + blob
    out += struct.pack("<I", len(aliases))
    for alias, target in aliases:
        out += ct2_string(alias) + ct2_string(target)
    return out


def ct2_seeds():
    i8 = lambda v: struct.pack("<b", v)
    i32 = lambda v: struct.pack("<i", v)
    h, vocab, ff = 8, 16, 16
    f = lambda name, shape, seed=1: (name, shape, 0, f32s(values(math.prod(shape), seed)))
    ln = lambda p: [(p + "/gamma", [h], 0, f32s([1.0] * h)), (p + "/beta", [h], 0, f32s([0.0] * h))]
    variables = [
        ("encoder/num_heads", [], 3, i32(2)), ("decoder/num_heads", [], 3, i32(2)),
        ("encoder/activation", [], 1, i8(3)), ("decoder/activation", [], 1, i8(3)),
        ("encoder/pre_norm", [], 1, i8(1)), ("decoder/pre_norm", [], 1, i8(1)),
        ("decoder/scale_embeddings", [], 1, i8(0)), ("decoder/alibi", [], 1, i8(0)),
        f("encoder/conv1/weight", [h, 4, 3]), f("encoder/conv1/bias", [h]),
        f("encoder/conv2/weight", [h, h, 3]), f("encoder/conv2/bias", [h]),
        f("encoder/position_encodings/encodings", [4, h]),
        f("encoder/layer_0/ffn/linear_0/weight", [ff, h]), ("encoder/layer_0/ffn/linear_0/bias", [ff], 4, b"\x00\x3c" * ff),
        f("decoder/embeddings/weight", [vocab, h]), f("decoder/position_encodings/encodings", [8, h]),
        f("decoder/layer_0/ffn/linear_0/weight", [ff, h]),
    ] + ln("encoder/layer_norm") + ln("decoder/layer_norm")
    save("ctranslate2", "whisper-partial.bin", ct2("WhisperSpec", variables, [("decoder/projection/weight", "decoder/embeddings/weight")]))
    save("ctranslate2", "dtypes.bin", ct2("TransformerSpec", [
        ("a", [2], 1, b"\x01\x02"), ("b", [2], 2, b"\x01\x00\x02\x00"), ("c", [1, 1], 5, b"\x80\x3f"), ("s", [], 0, f32s([0.5]))]))
    save("ctranslate2", "empty.bin", ct2("WhisperSpec", []))


# ---------------------------------------------------------------- tokenizer.json
def tokenizer_seeds():
    vocab = {t: i for i, t in enumerate(BYTE_TOKENS + MERGED)}
    bpe = {
        "version": "1.0", "truncation": None, "padding": None,
        "added_tokens": [{"id": len(vocab) + i, "content": t, "special": True} for i, t in enumerate(SPECIAL)],
        "normalizer": None,
        "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True},
        "model": {"type": "BPE", "vocab": vocab, "merges": MERGES},
    }
    save("tokenizer-json", "bpe-string-merges.json", json.dumps(bpe, ensure_ascii=False))
    bpe["model"]["merges"] = [m.split(" ") for m in MERGES]
    bpe["pre_tokenizer"] = None
    save("tokenizer-json", "bpe-pair-merges.json", json.dumps(bpe))
    words = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "hello", "world", "un", "##aff", "##able", ",", "!", "'", "s",
             "it", "naive", "cafe", "東", "京", "##s", "20", "##24"]
    wordpiece = {
        "version": "1.0", "truncation": {"max_length": 128}, "padding": {"pad_id": 0},
        "added_tokens": [{"id": i, "content": t, "single_word": False, "lstrip": False, "rstrip": False,
                          "normalized": False, "special": True} for i, t in enumerate(words[:5])],
        "normalizer": {"type": "BertNormalizer", "clean_text": True, "handle_chinese_chars": True,
                       "strip_accents": None, "lowercase": True},
        "pre_tokenizer": {"type": "BertPreTokenizer"},
        "post_processor": {"type": "TemplateProcessing",
                           "single": [{"SpecialToken": {"id": "[CLS]", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                                      {"SpecialToken": {"id": "[SEP]", "type_id": 0}}],
                           "pair": [], "special_tokens": {"[CLS]": {"id": "[CLS]", "ids": [2], "tokens": ["[CLS]"]},
                                                          "[SEP]": {"id": "[SEP]", "ids": [3], "tokens": ["[SEP]"]}}},
        "decoder": {"type": "WordPiece", "prefix": "##", "cleanup": True},
        "model": {"type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "##",
                  "max_input_chars_per_word": 100, "vocab": {t: i for i, t in enumerate(words)}},
    }
    save("tokenizer-json", "wordpiece-template.json", json.dumps(wordpiece, ensure_ascii=False))
    wordpiece["post_processor"] = {"type": "BertProcessing", "sep": ["[SEP]", 3], "cls": ["[CLS]", 2]}
    wordpiece["normalizer"] = {"type": "BertNormalizer", "lowercase": False, "strip_accents": True}
    save("tokenizer-json", "wordpiece-bert-processing.json", json.dumps(wordpiece))


# ---------------------------------------------------------------- JSON
def json_seeds():
    configs = {
        "llama-config.json": {"model_type": "llama", "vocab_size": 256, "hidden_size": 64, "intermediate_size": 160,
                              "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2, "rms_norm_eps": 1e-05,
                              "rope_parameters": {"rope_theta": 10000.0, "rope_type": "default"}, "eos_token_id": [2, 7],
                              "rope_scaling": None, "tie_word_embeddings": True},
        "preprocessor-config.json": {"image_processor_type": "ConvNextImageProcessor", "size": {"shortest_edge": 224},
                                     "crop_pct": 0.875, "resample": 3, "image_mean": [0.485, 0.456, 0.406],
                                     "image_std": [0.229, 0.224, 0.225], "rescale_factor": 0.00392156862745098},
        "id2label.json": {"id2label": {str(i): f"class {i}" for i in range(12)}, "depths": [1, 1], "hidden_sizes": [8, 16]},
        "modules.json": [{"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
                         {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"}],
    }
    for name, body in configs.items():
        save("json", name, json.dumps(body, ensure_ascii=False, indent=2))
    save("json", "numbers.json", "[0, -0, 1.5e-3, 1E+400, 18446744073709551615, 123456789012345678901234567890, -0.0, 3.0]")
    save("json", "strings.json", r'["\u00e9\ud83d\ude42", "tab\t quote\" slash\/", "\u0000\u001f\u007f", ' + '"caf\u00e9 \U0001F642"]')
    save("json", "deep.json", "[" * 64 + "]" * 64)
    save("json", "too-deep.json", '{"a":' * 65 + "1" + "}" * 65)
    save("json", "duplicate-key.json", '{"a": 1, "b": {"a": 2}, "a": 3}')
    save("json", "lone-surrogate.json", '["\\ud800x"]')
    save("json", "trailing.json", '{"a": [1, 2]} {}')
    save("json", "whitespace.json", ' \t\r\n{ "a" :\n[ ]\r\n, "b":{} }\n')


# ---------------------------------------------------------------- requests
def request_seeds():
    tiny_png = png(2, 2, 8, 2, [bytes(6), bytes(range(6))])
    tiny_wav = wav(1, 16000, 16, 160)
    requests = {
        "chat.json": {"task": "chat", "messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi \u00e9 \U0001F642"}],
                      "max_tokens": 8, "temperature": 0.7, "top_k": 40, "top_p": 0.9, "min_p": 0.05,
                      "repetition_penalty": 1.1, "seed": 42, "stop": ["\n", "END"], "model": "m"},
        "complete.json": {"task": "complete", "prompt": "Once upon", "stop": "."},
        "embed.json": {"task": "embed", "input": ["one", "two"]},
        "embed-one.json": {"task": "embed", "input": "one"},
        "classify.json": {"task": "classify", "input": base64.b64encode(tiny_png).decode(), "top_k": 3, "threshold": 0.1},
        "transcribe.json": {"task": "transcribe", "input": base64.b64encode(tiny_wav).decode(), "subtitles": ["srt", "vtt"]},
        "unknown-field.json": {"task": "chat", "mesages": []},
    }
    for name, body in requests.items():
        save("request", name, json.dumps(body, ensure_ascii=False))
    save("request", "escapes.json", '{"task":"complete","prompt":"a\\u0000\\ud83d\\ude42\\n\\"","seed":1e2, "max_tokens": 1.0}')
    save("request", "text.txt", "What is the capital of France?\n")
    save("request", "latin1.txt", "caf\xe9".encode("latin-1"))
    save("request", "image.png", tiny_png)
    save("request", "audio.wav", tiny_wav)


if __name__ == "__main__":
    shutil.rmtree(ROOT, ignore_errors=True)
    png_seeds(); jpeg_seeds(); audio_seeds(); gguf_seeds(); safetensors_seeds(); onnx_seeds(); ct2_seeds(); tokenizer_seeds(); request_seeds(); json_seeds()
    total = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(ROOT) for f in fs)
    print(f"wrote {sum(len(fs) for _, _, fs in os.walk(ROOT))} seeds, {total} bytes, under {ROOT}")
