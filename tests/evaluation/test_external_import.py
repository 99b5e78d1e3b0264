"""make eval-external imports a real portal's published answers through the normal import path."""

from __future__ import annotations

from pathlib import Path

from evaluation.external import qa_entries
from knowledge.cli import main as knowledge_cli
from knowledge.io import write_jsonl


def test_portal_answers_with_addresses_and_accounts_import(tmp_path: Path) -> None:
    rows = [
        {"question": "在哪里办", "answer": "请关注“北京人社”微信公众号，或到朝阳区XX路12号服务大厅办理。"},
        {
            "question": "要多少钱",
            "answer": "作如下调整：\n 一、不收费。 Apply online.",
            "department": "市人社局",
        },
    ]
    entries, pairs = qa_entries(rows)
    assert [e.id for e in entries] == ["qa-0001", "qa-0002"] and pairs[1] == ("要多少钱", "qa-0002")
    assert all(not e.sample and e.official_source for e in entries)  # not the bureau's sample content
    assert entries[1].summary == "作如下调整：一、不收费。 Apply online."  # the portal's paragraph breaks
    jsonl = tmp_path / "qa.jsonl"
    write_jsonl(entries, jsonl)
    assert knowledge_cli(["--database-url", f"sqlite:///{tmp_path / 'x.db'}", "import", str(jsonl)]) == 0
