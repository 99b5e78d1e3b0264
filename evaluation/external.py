"""``make eval-external DATA=<folder>``: retrieval on real citizen questions nobody here wrote.

Each distinct answer of ``msgabench_gov_qa.jsonl`` becomes a knowledge entry, imported through the
normal import path into a scratch store; every real question is then asked in each search mode.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import tempfile
import time
from pathlib import Path

from core.settings import Settings, get_settings
from evaluation.handoff import MESSAGES, evaluate_handoff
from evaluation.retrieval import MODES, print_table
from knowledge.cli import main as knowledge_cli
from knowledge.io import read_yaml_dir, write_jsonl
from knowledge.models import Entry
from knowledge.validation import without_stray_spaces
from retrieval.live import LiveSearch, make_engine

GOV_QA = "msgabench_gov_qa.jsonl"


def qa_entries(rows: list[dict]) -> tuple[list[Entry], list[tuple[str, str]]]:
    """Distinct answers → entries; returns the entries and (question, entry id) pairs."""
    ids: dict[str, str] = {}
    entries: list[Entry] = []
    pairs: list[tuple[str, str]] = []
    for row in rows:
        answer = without_stray_spaces(" ".join(row["answer"].split()))  # paragraph breaks of the portal
        if answer not in ids:
            ids[answer] = f"qa-{len(ids) + 1:04d}"
            first = answer.replace("。", "，").split("，")[0][:60] or answer[:60]
            entries.append(
                Entry(
                    id=ids[answer],
                    title=first if len(first) >= 2 else answer[:60],
                    kind="faq",  # type: ignore[arg-type]
                    category=row.get("department") or "其他",
                    audience=["个人"],  # type: ignore[list-item]
                    summary=answer[:2000] if len(answer) >= 4 else answer + "（无详细答复）",
                    source=f"首都之窗 政务问答（{row.get('department') or '未注明部门'}），MSGABench",
                    # published answers of a real government portal, not the bureau's sample content:
                    # the sample-content rules (no addresses, accounts, fees of its own) do not apply
                    sample=False,
                    official_source="首都之窗 政务问答（MSGABench）",
                    reviewed_at=dt.date.today(),
                )
            )
        pairs.append((row["question"], ids[answer]))
    return entries, pairs


def score(live: LiveSearch, pairs: list[tuple[str, str]], mode: str) -> dict[str, float]:
    hit1 = hit5 = rr = 0.0
    for question, gold in pairs:
        ids = [c.id for c in live.engine.search(question, k=5, mode=mode).candidates]  # type: ignore[arg-type]
        if gold in ids:
            rank = ids.index(gold) + 1
            hit1 += rank == 1
            hit5 += 1
            rr += 1 / rank
    n = len(pairs)
    return {"hit@1": round(hit1 / n, 4), "hit@5": round(hit5 / n, 4), "mrr": round(rr / n, 4)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", default="../shared/data", help="folder holding the evaluation data")
    args = parser.parse_args(argv)
    data = Path(args.data)
    source = data / GOV_QA
    if not source.exists():
        print(
            f"external data not found: expected {source}. Pass DATA=<folder holding {GOV_QA}> "
            "(on the project machines: make eval-external DATA=../shared/data).",
            file=sys.stderr,
        )
        return 2
    rows = [json.loads(line) for line in source.read_text(encoding="utf-8").splitlines() if line.strip()]
    entries, pairs = qa_entries(rows)
    base = get_settings()
    with tempfile.TemporaryDirectory() as tmp:
        jsonl = Path(tmp) / "gov_qa_entries.jsonl"
        write_jsonl(entries, jsonl)
        url = f"sqlite:///{tmp}/external.db"
        if knowledge_cli(["--database-url", url, "import", str(jsonl)]) != 0:
            return 1
        settings = Settings(database_url=url, data_dir=base.data_dir / "external")
        started = time.monotonic()
        live = LiveSearch(settings)
        live.warm_up()
        print(f"{len(entries)} entries indexed in {time.monotonic() - started:.1f}s; {len(pairs)} questions")
        results = {mode: score(live, pairs, mode) for mode in MODES}
    print_table(results, ["hit@1", "hit@5", "mrr"])
    out: dict[str, object] = {"gov_qa": results}
    if (data / MESSAGES).exists():
        # the citizen-facing knowledge base decides whether a message is answered or abstained on
        engine = make_engine(base)
        engine.rebuild([e for e in read_yaml_dir(base.knowledge_dir) if e.status == "published"])
        handoff = evaluate_handoff(data, lambda text: engine.search(text, k=3).answerable)
        print(
            f"handoff triggers on {handoff['messages']} real citizen messages: 投诉/求助 → human offered "
            f"{handoff['complaint_human_offered']} (handed off directly {handoff['complaint_handed_off']}), "
            f"咨询 kept by the bot {handoff['consultation_kept_by_bot']}"
        )
        out["handoff"] = handoff
    print("RESULT " + json.dumps(out, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
