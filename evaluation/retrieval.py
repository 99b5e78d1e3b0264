"""``make eval``: hit@1, hit@3, MRR, out-of-scope rejection and false rejection per search mode."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from retrieval.engine import SearchEngine

MODES = ("bm25", "dense", "hybrid")


def load_questions(path: Path) -> list[dict[str, Any]]:
    rows = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if line.strip():
            row = json.loads(line)
            if "q" not in row or "id" not in row:
                raise ValueError(f"{path.name}:{n}: each line needs 'q' and 'id'")
            rows.append(row)
    return rows


def evaluate(engine: SearchEngine, rows: list[dict[str, Any]], mode: str, k: int = 5) -> dict[str, float]:
    hit1 = hit3 = hit5 = rr = 0.0
    inscope = outscope = rejected_out = rejected_in = 0
    for row in rows:
        res = engine.search(row["q"], k=max(k, 5), mode=mode)  # type: ignore[arg-type]
        ids = [c.id for c in res.candidates]
        if row["id"] is None:
            outscope += 1
            rejected_out += not res.answerable
            continue
        inscope += 1
        rejected_in += not res.answerable
        if row["id"] in ids:
            rank = ids.index(row["id"]) + 1
            hit1 += rank == 1
            hit3 += rank <= 3
            hit5 += rank <= 5
            rr += 1 / rank
    n = max(inscope, 1)
    return {
        "hit@1": round(hit1 / n, 4),
        "hit@3": round(hit3 / n, 4),
        "hit@5": round(hit5 / n, 4),
        "mrr": round(rr / n, 4),
        "oos_rejection": round(rejected_out / outscope, 4) if outscope else None,  # type: ignore[dict-item]
        "false_rejection": round(rejected_in / n, 4),
    }


def print_table(results: dict[str, dict[str, float]], columns: list[str]) -> None:
    print(f"{'mode':8}" + "".join(f"{c:>16}" for c in columns))
    for mode, row in results.items():
        cells = "".join(f"{'-' if row[c] is None else row[c]:>16}" for c in columns)
        print(f"{mode:8}{cells}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--eval", default="knowledge/eval/dev.jsonl", help="JSON Lines of {q, id}")
    parser.add_argument(
        "--from-store",
        action="store_true",
        help="evaluate the published entries of the database instead of the knowledge/ files",
    )
    args = parser.parse_args(argv)
    from core.settings import get_settings
    from knowledge.io import read_yaml_dir
    from retrieval.live import LiveSearch, make_engine

    path = Path(args.eval)
    if not path.exists():
        print(f"evaluation file not found: {path}", file=sys.stderr)
        return 2
    settings = get_settings()
    if args.from_store:
        live = LiveSearch(settings)
        live.warm_up()
        engine, origin = live.engine, settings.database_url
    else:
        engine, origin = make_engine(settings), str(settings.knowledge_dir)
        engine.rebuild([e for e in read_yaml_dir(settings.knowledge_dir) if e.status == "published"])
    rows = load_questions(path)
    results = {mode: evaluate(engine, rows, mode) for mode in MODES}
    print(
        f"{len(rows)} questions from {path}, {len(engine.entries)} entries from {origin}, "
        f"encoder {engine.encoder.name}"
    )
    print_table(results, ["hit@1", "hit@3", "mrr", "oos_rejection", "false_rejection"])
    print("RESULT " + json.dumps(results, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
