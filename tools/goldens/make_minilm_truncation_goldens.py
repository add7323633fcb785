#!/usr/bin/env python3
"""Goldens for `"truncate": true` embed requests: what sentence-transformers
returns for long texts with all-MiniLM-L6-v2's own configuration (it cuts a
text to max_seq_length = 256 tokens, [CLS] and [SEP] included, then mean
pooling and the Normalize module that modules.json lists).

The long texts are not stored. Each is drawn from the small sentence pools
below with a SplitMix64 generator (the algorithm of QuernTensor's
SeededGenerator): sentence i is pool[next() % len(pool)], sentences joined
by the text's separator. The test rebuilds every text from its seed and
sentence count and checks its UTF-8 length and word-piece count before
comparing vectors.

Writes Tests/QuernModelTests/Embeddings/Goldens/minilm-truncation-goldens.json:
  corpora[name]           the sentence pools
  texts[i].corpora        which pools the text draws from (concatenated)
  texts[i].separator      what joins its sentences
  texts[i].seed           the SplitMix64 seed
  texts[i].sentences      how many sentences were drawn
  texts[i].utf8_bytes     the text's length, to catch a different rebuild
  texts[i].pieces         word pieces of the whole text (no special tokens)
  texts[i].embedding      SentenceTransformer.encode(text), each value
                          rounded to 7 significant digits

Run it in the reference environment (tools/goldens/setup-reference-venv.sh):
  ~/.cache/quern/venv-reference/bin/python tools/goldens/make_minilm_truncation_goldens.py
"""
import os

# First, as it sets the offline switches before transformers loads. The
# model path and the file layout are those of the other all-MiniLM-L6-v2
# goldens (this script's folder is on sys.path).
from make_minilm_goldens import MODEL, ROOT, reference_versions, write_one_text_per_line

import numpy as np  # noqa: E402
import torch  # noqa: E402
from sentence_transformers import SentenceTransformer  # noqa: E402

OUT = os.path.join(ROOT, "Tests/QuernModelTests/Embeddings/Goldens/minilm-truncation-goldens.json")

CORPORA = {
    "english": [
        "The river rose quickly after three days of heavy rain in the hills.",
        "Farmers moved their cattle to higher ground before the bridge closed.",
        "A small library in the old town lends bicycles as well as books.",
        "Researchers measured how long honeybees remember the colour of a flower.",
        "The train to the coast was delayed by forty minutes on Tuesday.",
        "She repaired the clock with a spring taken from a broken music box.",
        "Volunteers planted two thousand oak saplings along the motorway.",
        "The museum's new wing displays maps drawn by eighteenth-century sailors.",
        "Prices for olive oil fell sharply once the autumn harvest came in.",
        "Our neighbour's dog learned to open the garden gate with its nose.",
        "The committee postponed its decision on the stadium until next spring.",
        "Engineers tested the wind turbine's blades in a tunnel near the airport.",
        "He wrote every letter by hand, even after he bought a computer.",
        "Children at the school grow tomatoes, beans and pumpkins on the roof.",
        "The storm knocked out power to 12,000 homes for most of the night.",
        "A chess club meets in the café on Thursday evenings at seven.",
        "Astronomers spotted a comet that will be visible without a telescope in March.",
        "The bakery's sourdough starter is said to be older than the building.",
        "Local fishermen report fewer sardines and more jellyfish every summer.",
        "Doctors recommend walking for at least half an hour each day.",
        "The translation keeps the poem's rhythm but changes several images.",
        "Tickets for the concert sold out within minutes of going on sale.",
        "An old lighthouse on the island has been turned into a bird observatory.",
        "The software update fixed the bug that drained the phone's battery overnight.",
        "Snow closed the mountain pass, so the lorries waited in the valley.",
        "The recipe calls for two eggs, a cup of flour and a pinch of salt.",
        "Historians disagree about why the city walls were never finished.",
        "The team won the final after a penalty shoot-out that lasted eleven rounds.",
        "Most of the village's houses were built from the grey local stone.",
        "A quiet street becomes a market every Saturday morning from May to October.",
        "The startup's app translates restaurant menus from photographs.",
        "Nobody expected the shy student to win the national spelling contest.",
    ],
    "cjk": [
        "今天早上下了一场大雨，街道上到处都是积水。",
        "我们计划在周末去郊外的山上看日出。",
        "这家小书店已经在老城区开了三十多年。",
        "研究人员发现蜜蜂能记住花朵的颜色和形状。",
        "火车因为大雪晚点了将近一个小时。",
        "她用一个旧音乐盒里的弹簧修好了那座钟。",
        "志愿者们在河边种下了两千棵柳树。",
        "博物馆的新展厅展出了古代航海家绘制的地图。",
        "秋收以后，市场上的苹果价格明显下降了。",
        "邻居家的小狗学会了用鼻子推开院子的门。",
        "委员会决定把体育场的建设推迟到明年春天。",
        "工程师们在机场附近的风洞里测试新的叶片。",
        "孩子们在学校的屋顶上种了西红柿和南瓜。",
        "暴风雨导致一万多户家庭停电了一整夜。",
        "天文学家说三月份用肉眼就能看到这颗彗星。",
        "这首诗的翻译保留了原文的节奏。",
        "東京の空は朝から晴れていて、とても気持ちがいい。",
        "図書館で借りた本を返すのを忘れてしまった。",
        "駅前の新しいパン屋は毎朝六時に開店する。",
        "週末は家族と一緒に海へ行く予定です。",
        "この町の古い家はほとんど地元の石で建てられている。",
        "彼は毎日手紙を手で書くことにしている。",
        "コンサートのチケットは数分で売り切れた。",
        "山の上の灯台は鳥の観察所に生まれ変わった。",
    ],
}

TEXTS = [
    # (name, corpora, separator, seed, target word pieces)
    ("english-300", ["english"], " ", 11, 300),
    ("english-1000", ["english"], " ", 12, 1000),
    ("english-3000", ["english"], " ", 13, 3000),
    ("cjk-300", ["cjk"], "", 21, 300),
    ("cjk-1000", ["cjk"], "", 22, 1000),
    ("cjk-3000", ["cjk"], "", 23, 3000),
    ("mixed-1500", ["english", "cjk"], " ", 31, 1500),
]

MASK = (1 << 64) - 1


class SplitMix64:
    """QuernTensor's SeededGenerator, bit for bit."""

    def __init__(self, seed):
        self.state = seed & MASK

    def next(self):
        self.state = (self.state + 0x9E3779B97F4A7C15) & MASK
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
        return z ^ (z >> 31)


def build_text(corpora, separator, seed, sentences):
    pool = [sentence for name in corpora for sentence in CORPORA[name]]
    generator = SplitMix64(seed)
    return separator.join(pool[generator.next() % len(pool)] for _ in range(sentences))


def seven_digits(vector):
    return [float(f"{value:.7g}") for value in vector.tolist()]


def main():
    torch.set_num_threads(1)
    model = SentenceTransformer(MODEL, device="cpu")
    model.eval()
    assert model.max_seq_length == 256, model.max_seq_length
    module_types = [type(module).__name__ for module in model]
    assert module_types[-1] == "Normalize", module_types
    tokenizer = model.tokenizer

    def piece_count(text):
        return len(tokenizer(text, add_special_tokens=False, truncation=False)["input_ids"])

    entries = []
    for name, corpora, separator, seed, target in TEXTS:
        # The fewest sentences that reach the target.
        sentences = 1
        while piece_count(build_text(corpora, separator, seed, sentences)) < target:
            sentences += 1
        text = build_text(corpora, separator, seed, sentences)
        pieces = piece_count(text)
        assert 300 <= pieces <= 3100, (name, pieces)
        # The model's own pipeline normalises (its Normalize module), so
        # asking encode to normalise as well must change nothing.
        plain = model.encode([text], batch_size=1, convert_to_numpy=True)[0]
        normalized = model.encode([text], batch_size=1, convert_to_numpy=True, normalize_embeddings=True)[0]
        assert np.abs(plain - normalized).max() < 1e-6, name
        assert abs(np.linalg.norm(plain) - 1) < 1e-5, name
        entries.append({
            "name": name, "corpora": corpora, "separator": separator, "seed": seed, "sentences": sentences,
            "utf8_bytes": len(text.encode("utf-8")), "pieces": pieces, "embedding": seven_digits(plain),
        })
        print(f"{name}: {sentences} sentences, {pieces} word pieces")

    document = {
        "model": "all-minilm-l6-v2",
        "generator": "tools/goldens/make_minilm_truncation_goldens.py",
        "max_seq_length": model.max_seq_length,
        "modules": module_types,
        "versions": reference_versions(),
        "corpora": CORPORA,
    }
    write_one_text_per_line(OUT, document, entries)


if __name__ == "__main__":
    main()
