"""``make bench``: encoder throughput, search latency at three sizes, build/upsert time, memory.

Writes docs/benchmarks.md. A benchmark, not a test: run it on a quiet machine.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from core.settings import ROOT, Settings, get_settings
from embeddings.cache import CachedEncoder
from embeddings.encoders import load_encoder
from embeddings.index import VectorIndex
from evaluation.retrieval import load_questions
from knowledge.importers.guangdong import map_file
from knowledge.io import read_yaml_dir
from knowledge.models import Entry
from knowledge.render import plain_text, speech
from retrieval.bm25 import Bm25Index
from retrieval.engine import SearchEngine, _Snapshot
from retrieval.live import engine_params, load_out_of_scope
from retrieval.rerank import load_reranker
from retrieval.text import Lexicon

# the chat-turn section of docs/benchmarks.md, written by evaluation/chat_bench.py
CHAT_START, CHAT_END = "<!-- chat-turns:start -->", "<!-- chat-turns:end -->"


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def commit() -> str:
    """The checked-out commit (short hash), or "unknown" outside a git checkout."""
    out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    return out.stdout.strip() or "unknown"


def machine() -> str:
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    load = os.getloadavg()[0]
    return f"{model}, {os.cpu_count()} cores, {mem:.0f} GiB, Python {platform.python_version()}, load average {load:.1f} at start"


def timed(fn: Callable[[], object], repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t) * 1000)
    return out


def new_engine(settings: Settings, cache: Path) -> SearchEngine:
    raw = load_encoder(settings.embedding_model)
    encoder = CachedEncoder(raw, cache)
    params = engine_params(settings, getattr(raw, "calibration", None))
    reranker = load_reranker(settings.reranker, settings.rerank_k)  # RERANKER: searches include re-ranking
    engine = SearchEngine(encoder, Lexicon.load(settings.synonyms_file), params, reranker)
    engine.set_out_of_scope(load_out_of_scope(settings.out_of_scope_file))
    return engine


def search_latency(
    engine: SearchEngine, queries: list[str], rounds: int = 1, cold: bool = True
) -> list[float]:
    """Per-query latency; ``cold``: query encoding included (the query cache is emptied each time),
    else the query vector comes from the cache (the retrieval itself: BM25 + vector search + fusion)."""
    times = []
    if not cold:
        engine.encoder.encode_queries([engine.normalise_query(q.strip()) for q in queries])
    for _ in range(rounds):
        for q in queries:
            if cold:
                engine.encoder._queries.clear()
            t = time.perf_counter()
            engine.search(q, k=5)
            times.append((time.perf_counter() - t) * 1000)
    return times


def synthetic_engine(engine: SearchEngine, n: int, rng: random.Random) -> SearchEngine:
    """n synthetic entries: 3 random unit vectors each and Zipf-distributed token documents."""
    base = next(iter(engine.entries.values()))
    vocab = [f"词{i}" for i in range(30000)]
    weights = [1 / (i + 1) for i in range(len(vocab))]
    dense = VectorIndex(engine.encoder.dim)
    gen = np.random.default_rng(7)
    entries: dict[str, Entry] = {}
    docs = []
    batch = []
    for i in range(n):
        eid = f"syn-{i:06d}"
        entries[eid] = base
        docs.append((eid, rng.choices(vocab, weights, k=30)))
        vecs = gen.standard_normal((3, engine.encoder.dim)).astype(np.float32)
        batch.append((eid, vecs / np.linalg.norm(vecs, axis=1, keepdims=True)))
    dense.add_many(batch)  # one bulk load: past VectorIndex.ivf_threshold vectors this builds IVF
    for eid, e in engine.entries.items():  # keep the real ones searchable too
        entries[eid] = e
        dense.upsert(eid, engine._vectors(e))
    bm25 = Bm25Index()
    bm25.build(docs + [(eid, engine._tokens[eid][1]) for eid in engine.entries])
    engine._snap = _Snapshot(entries, bm25, dense)
    return engine


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", default="../shared/data")
    parser.add_argument("--synthetic", type=int, default=100_000)
    parser.add_argument("--out", default=str(ROOT / "docs" / "benchmarks.md"))
    args = parser.parse_args(argv)
    settings = get_settings()
    rng = random.Random(1)
    seed = read_yaml_dir(settings.knowledge_dir)
    queries = [r["q"] for r in load_questions(ROOT / "knowledge" / "eval" / "dev.jsonl")]
    rows: list[tuple[str, str]] = []
    result: dict[str, object] = {}

    with tempfile.TemporaryDirectory() as tmp:
        raw = load_encoder(settings.embedding_model)
        texts = [q for e in seed for q in e.similar_questions][:256]
        t = time.perf_counter()
        raw.encode_passages(texts)
        throughput = len(texts) / (time.perf_counter() - t)
        single = timed(lambda: raw.encode_queries([rng.choice(queries)]), 50)
        rows.append(("encoder throughput (passages, batch)", f"{throughput:.0f} texts/s"))
        rows.append(
            ("encoder single-query latency p50 / p95", f"{pct(single, 0.5):.1f} / {pct(single, 0.95):.1f} ms")
        )
        result["encoder"] = {"texts_per_s": round(throughput), "query_p50_ms": round(pct(single, 0.5), 2)}

        engine = new_engine(settings, Path(tmp) / "cache-seed.sqlite")
        t = time.perf_counter()
        engine.rebuild(seed)
        rows.append(
            (f"full build, {len(seed)} seed entries (empty cache)", f"{time.perf_counter() - t:.1f} s")
        )
        lat = search_latency(engine, queries)
        rows.append(
            (f"search p50 / p95, {len(seed)} entries", f"{pct(lat, 0.5):.1f} / {pct(lat, 0.95):.1f} ms")
        )
        result["search_seed"] = {"p50_ms": round(pct(lat, 0.5), 2), "p95_ms": round(pct(lat, 0.95), 2)}

        def assist(q: str) -> None:
            res = engine.search(q, k=3)
            for c in res.candidates:
                e = engine.entries[c.id]
                plain_text(e)
                speech(e)

        assist_times: list[float] = []
        for q in queries[:150]:
            engine.encoder._queries.clear()
            t = time.perf_counter()
            assist(q)
            assist_times.append((time.perf_counter() - t) * 1000)
        rows.append(("agent phone assist (search + read-aloud) p95", f"{pct(assist_times, 0.95):.1f} ms"))
        result["assist_p95_ms"] = round(pct(assist_times, 0.95), 2)

        gd_path = Path(args.data) / "guangdong_service_guides.jsonl"
        if gd_path.exists():
            report = map_file(gd_path)
            guides = report.mapped
            engine = new_engine(settings, Path(tmp) / "cache-gd.sqlite")
            t = time.perf_counter()
            engine.rebuild(guides)
            build = time.perf_counter() - t
            lat = search_latency(engine, queries)
            warm = search_latency(engine, queries, cold=False)
            victim = guides[len(guides) // 2]
            ups = []
            for i in range(20):
                changed = victim.model_copy(update={"summary": f"{victim.summary}（修订{i}）"})
                t = time.perf_counter()
                engine.upsert(changed)
                ups.append((time.perf_counter() - t) * 1000)
            rows.append(
                ("Guangdong guides mapped / rejected", f"{len(guides)} / {sum(report.rejected.values())}")
            )
            rows.append((f"full build, {len(guides)} real guides (empty cache)", f"{build:.1f} s"))
            rows.append(
                (f"search p50 / p95, {len(guides)} entries", f"{pct(lat, 0.5):.1f} / {pct(lat, 0.95):.1f} ms")
            )
            rows.append(
                (
                    f"retrieval only (query vector cached) p50 / p95, {len(guides)} entries",
                    f"{pct(warm, 0.5):.1f} / {pct(warm, 0.95):.1f} ms",
                )
            )
            rows.append(
                (
                    f"single-entry upsert p50 / p95, {len(guides)} entries",
                    f"{pct(ups, 0.5):.0f} / {pct(ups, 0.95):.0f} ms",
                )
            )
            result["guangdong"] = {
                "entries": len(guides),
                "build_s": round(build, 1),
                "p50_ms": round(pct(lat, 0.5), 2),
                "p95_ms": round(pct(lat, 0.95), 2),
                "warm_p95_ms": round(pct(warm, 0.95), 2),
                "upsert_p50_ms": round(pct(ups, 0.5), 1),
                "upsert_p95_ms": round(pct(ups, 0.95), 1),
                "import_report": report.summary(),
            }
        else:
            rows.append(("Guangdong guides", f"skipped: {gd_path} not found (pass DATA=<folder>)"))

        engine = new_engine(settings, Path(tmp) / "cache-seed.sqlite")
        engine.rebuild(seed)
        t = time.perf_counter()
        synthetic_engine(engine, args.synthetic, rng)
        build = time.perf_counter() - t
        lat = search_latency(engine, queries)
        warm = search_latency(engine, queries, cold=False)
        n = len(engine.entries)
        kind = type(engine.dense_index._index).__name__
        rows.append((f"synthetic index build, {n} entries ({kind})", f"{build:.1f} s"))
        rows.append((f"search p50 / p95, {n} entries", f"{pct(lat, 0.5):.1f} / {pct(lat, 0.95):.1f} ms"))
        rows.append(
            (
                f"retrieval only (query vector cached) p50 / p95, {n} entries",
                f"{pct(warm, 0.5):.1f} / {pct(warm, 0.95):.1f} ms",
            )
        )
        result["synthetic"] = {
            "entries": n,
            "index": kind,
            "p50_ms": round(pct(lat, 0.5), 2),
            "p95_ms": round(pct(lat, 0.95), 2),
            "warm_p95_ms": round(pct(warm, 0.95), 2),
        }
        rows.append(("peak memory (RSS)", f"{peak_mb():.0f} MB"))
        result["peak_mb"] = round(peak_mb())

    table = "\n".join(f"| {k} | {v} |" for k, v in rows)
    gd = result.get("guangdong")
    gd_report = gd.get("import_report", "") if isinstance(gd, dict) else ""
    doc = f"""# Benchmarks

Produced by `make bench` (`python -m evaluation.bench --data {args.data}`) on
{time.strftime("%Y-%m-%d %H:%M")} — {machine()}; encoder `{settings.embedding_model}`.
Latencies include query encoding (the query cache is emptied before each search); queries are the
{len(queries)} questions of `knowledge/eval/dev.jsonl`. Figures recorded in commit {commit()}.

| measure | value |
|---|---|
{table}

Targets (2 cores): search p95 ≤ 25 ms at 2,262 entries and ≤ 60 ms at 100,000;
single-entry upsert ≤ 200 ms; phone assist p95 ≤ 300 ms.

Query encoding dominates every search: compare the end-to-end rows with the "retrieval only" rows,
which reuse a cached query vector. FAISS answers one query on one OpenMP thread
(`embeddings/index.py`): its thread pool, left spinning beside the encoder's, slowed encoding by a
third on 2 cores (before → after in CHANGELOG.md, 2026-11-28).

The processor decides whether the 25 ms target holds, because encoding a query costs about 1 ms per
token on the slower one. Runs of this command on the project's machines (same code and data; the
commit the figures were recorded in is in brackets):

| run | processor | encode query p50 / p95 | search p95, 2,262 entries | search p95, 100,051 | upsert p95 |
|---|---|---|---|---|---|
| 2026-11-28 00:32 (971d01c) | Intel Xeon, 2 cores | 13.7 / 22.0 ms | 20.9 ms | 21.2 ms | 25 ms |
| 2026-11-28 02:00 (e20d29d) | AMD EPYC 2.45 GHz, 2 cores | 22.8 / 37.2 ms | 36.2 ms | 35.9 ms | 55 ms |

On the EPYC the p95 target at 2,262 entries is missed by the encoder alone (retrieval itself: 3.3 ms).
Measured there on 2026-11-28 and not adopted: one encoder thread (slower: 30–38 ms p50), OpenMP spin or
bind settings (noise), a `-march=native` build of the engine and a rewritten 4-bit matmul kernel (no
faster).

Guangdong import report:

```
{gd_report}
```
"""
    out = Path(args.out)
    old = out.read_text(encoding="utf-8") if out.exists() else ""
    if CHAT_START in old and CHAT_END in old:  # the chat-turn figures of evaluation.chat_bench stay
        doc = (
            doc.rstrip()
            + "\n\n"
            + CHAT_START
            + old.split(CHAT_START, 1)[1].split(CHAT_END, 1)[0]
            + CHAT_END
            + "\n"
        )
    out.write_text(doc, encoding="utf-8")
    print(doc)
    print("RESULT " + json.dumps(result, ensure_ascii=False, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
