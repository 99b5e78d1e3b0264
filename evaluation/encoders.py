"""``make eval-adapted DATA=<folder>``: today's hybrid vs the adapted encoder and the re-ranker.

The same import as ``make eval-external`` (each distinct answer of ``msgabench_gov_qa.jsonl`` an
entry, every real question asked, ``evaluation.external.score`` semantics), hybrid mode, in one run:
today's engine, + adapted encoder (``--encoder``), + re-ranker (``--reranker``), + both. The
re-ranked rows re-order the same first-stage candidates the engine's re-rank hook would
(its top ``--rerank-k``), so each encoder's first stage is computed once. Evaluation only: nothing
here trains, tunes or selects anything.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from core.settings import Settings, get_settings
from evaluation.external import GOV_QA, qa_entries
from knowledge.cli import main as knowledge_cli
from knowledge.io import write_jsonl
from retrieval.live import LiveSearch
from retrieval.rerank import Reranker, load_reranker, rerank

ROOT = Path(__file__).resolve().parent.parent


def _metrics(ranked: list[list[str]], gold: list[str]) -> dict[str, float]:
    hit1 = hit5 = rr = 0.0
    for ids, g in zip(ranked, gold, strict=True):
        ids = ids[:5]
        if g in ids:
            rank = ids.index(g) + 1
            hit1 += rank == 1
            hit5 += 1
            rr += 1 / rank
    n = len(gold)
    return {"hit@1": round(hit1 / n, 4), "hit@5": round(hit5 / n, 4), "mrr": round(rr / n, 4)}


def evaluate_encoder(
    settings: Settings,
    pairs: list[tuple[str, str]],
    reranker: Reranker | None,
    rerank_k: int,
    rerank_every: int = 1,
) -> dict[str, dict[str, float]]:
    started = time.monotonic()
    live = LiveSearch(settings)
    live.warm_up()
    built = time.monotonic() - started
    engine = live.engine
    questions = [q for q, _ in pairs]
    gold = [g for _, g in pairs]
    first: list[list[str]] = []
    reranked: list[list[str]] = []
    latency: list[float] = []
    rerank_latency: list[float] = []
    raw = engine.encoder.encoder
    for start in range(0, len(questions), 64):
        batch = questions[start : start + 64]
        # fill the query cache in one batched call (the engine then looks each query up)
        normalised = [engine.lexicon.normalise(q.strip()) for q in batch]
        for text, vec in zip(normalised, raw.encode_queries(normalised), strict=True):
            engine.encoder._queries[text] = vec
        for q in batch:
            t0 = time.perf_counter()
            result = engine.search(q, k=max(5, rerank_k), mode="hybrid")
            latency.append(time.perf_counter() - t0)
            first.append([c.id for c in result.candidates])
            if reranker is not None and (len(first) - 1) % rerank_every == 0:
                t0 = time.perf_counter()
                cands = rerank(reranker, q.strip(), result.candidates[:rerank_k], engine.entries)
                rerank_latency.append(time.perf_counter() - t0)
                reranked.append([c.id for c in cands])
        engine.encoder._queries.clear()
        logging.info("%d/%d questions", len(first), len(questions))
    out = {"first_stage": _metrics(first, gold)}
    out["first_stage"]["index_build_s"] = round(built, 1)
    out["first_stage"]["search_p95_ms_cached_query"] = round(float(np.quantile(latency, 0.95)) * 1000, 1)
    if reranker is not None:
        subset = gold[::rerank_every]
        if rerank_every > 1:  # the first stage on the same subset, for a like-for-like comparison
            out["first_stage_subset"] = _metrics(first[::rerank_every], subset)
        out["reranked"] = _metrics(reranked, subset)
        out["reranked"]["rerank_p95_ms"] = round(float(np.quantile(rerank_latency, 0.95)) * 1000, 1)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--encoder", default=str(ROOT / "var" / "models" / "e5-small-adapted"))
    parser.add_argument("--reranker", default=str(ROOT / "var" / "models" / "e5-reranker"))
    parser.add_argument("--runs", default="today,adapted", help="first stages to run: today, adapted or both")
    parser.add_argument("--rerank-k", type=int, default=get_settings().rerank_k)
    parser.add_argument(
        "--rerank-every",
        type=int,
        default=1,
        help="re-rank every n-th question only (a cheaper, reported subset)",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    source = args.data / GOV_QA
    if not source.exists():
        print(
            f"external data not found: expected {source} (make eval-adapted DATA=<folder>)", file=sys.stderr
        )
        return 2
    rows = [json.loads(line) for line in source.read_text(encoding="utf-8").splitlines() if line.strip()]
    entries, pairs = qa_entries(rows)
    reranker = load_reranker(args.reranker, args.rerank_k)
    base = get_settings()
    encoders = {"today": "e5-small-q4"} if "today" in args.runs else {}
    if "adapted" not in args.runs:
        pass
    elif (Path(args.encoder) / "config.json").exists():
        encoders["adapted"] = f"sentence-transformers:{args.encoder}"
    else:
        print(f"no adapted encoder at {args.encoder}: run make adapt", file=sys.stderr)
    results: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        jsonl = Path(tmp) / "gov_qa_entries.jsonl"
        write_jsonl(entries, jsonl)
        url = f"sqlite:///{tmp}/external.db"
        if knowledge_cli(["--database-url", url, "import", str(jsonl)]) != 0:
            return 1
        for label, spec in encoders.items():
            settings = Settings(
                database_url=url, data_dir=base.data_dir / "external", embedding_model=spec, reranker="off"
            )
            out = evaluate_encoder(settings, pairs, reranker, args.rerank_k, args.rerank_every)
            name = "hybrid" if label == "today" else "+ adapted encoder"
            results[name] = out["first_stage"]
            if "first_stage_subset" in out:
                results[f"{name} (every {args.rerank_every}th question)"] = out["first_stage_subset"]
            if "reranked" in out:
                suffix = f" (every {args.rerank_every}th question)" if args.rerank_every > 1 else ""
                results[("+ re-ranker" if label == "today" else "+ both") + suffix] = out["reranked"]
            print(label, json.dumps(out, ensure_ascii=False), flush=True)
    print(f"{len(entries)} entries, {len(pairs)} questions, re-rank k={args.rerank_k}")
    print("| configuration | hit@1 | hit@5 | MRR |\n|---|---|---|---|")
    for name, m in results.items():
        print(f"| {name} | {m['hit@1']:.3f} | {m['hit@5']:.3f} | {m['mrr']:.3f} |")
    print("RESULT " + json.dumps(results, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
