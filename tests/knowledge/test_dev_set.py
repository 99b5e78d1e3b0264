"""The development evaluation set is honest: broad, realistic and not copied from the entries."""

from __future__ import annotations

import json
from collections import Counter

from core.settings import ROOT
from knowledge.models import Entry

DEV = ROOT / "knowledge" / "eval" / "dev.jsonl"


def _rows() -> list[dict]:
    return [json.loads(line) for line in DEV.read_text(encoding="utf-8").splitlines() if line.strip()]


def _bigrams(text: str) -> set[str]:
    text = "".join(ch for ch in text if ch.isalnum())
    return {text[i : i + 2] for i in range(len(text) - 1)}


def near_duplicate(a: str, b: str) -> bool:
    """Character-bigram Jaccard ≥ 0.5, or one question contained in the other."""
    ca, cb = "".join(ch for ch in a if ch.isalnum()), "".join(ch for ch in b if ch.isalnum())
    if len(ca) >= 6 and len(cb) >= 6 and (ca in cb or cb in ca):
        return True
    ba, bb = _bigrams(a), _bigrams(b)
    return bool(ba and bb) and len(ba & bb) / len(ba | bb) >= 0.5


def test_near_duplicate_measure() -> None:
    assert near_duplicate("新生儿怎么上户口", "新生儿怎么上户口呢？")
    assert not near_duplicate("宝宝生了户口咋上", "新生儿怎么上户口")


def test_size_and_coverage(seed_entries: list[Entry]) -> None:
    rows = _rows()
    counts = Counter(r["id"] for r in rows)
    assert len(rows) >= 200
    assert counts[None] >= 20
    for e in seed_entries:
        assert counts[e.id] >= 3, e.id
    assert set(counts) - {None} <= {e.id for e in seed_entries}
    assert len({r["q"] for r in rows}) == len(rows), "duplicate questions"


def test_no_dev_question_copies_a_stored_similar_question(seed_entries: list[Entry]) -> None:
    stored = [q for e in seed_entries for q in e.similar_questions]
    copies = [(r["q"], s) for r in _rows() for s in stored if near_duplicate(r["q"], s)]
    assert not copies, copies[:10]
