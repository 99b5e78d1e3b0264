"""tests/data/situation_paraphrases.yml stays in step with the entries' situation questions.

The file is test data for the situation-answer matcher; this test checks the data
only: every option of every entry is there, with its label and at least two typed paraphrases that
are not the label itself, and no reply is listed under two options or as a non-answer too.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from core.settings import ROOT
from knowledge.models import Entry

DATA = ROOT / "tests" / "data" / "situation_paraphrases.yml"


def load(path: Path = DATA) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def test_every_option_of_every_entry_is_covered(seed_entries: list[Entry]) -> None:
    listed = {(s["entry"], s["situation"]): s for s in load()["situations"]}
    expected = {(e.id, s.id): s for e in seed_entries for s in e.situations}
    assert set(listed) == set(expected), "situations missing or unknown"
    for key, situation in expected.items():
        item = listed[key]
        assert item["question"] == situation.question, key
        assert [(o["value"], o["label"]) for o in item["options"]] == [
            (o.value, o.label) for o in situation.options
        ], key


def test_paraphrases_are_real_and_unambiguous() -> None:
    data = load()
    not_answers = {t for group in data["not_answers"].values() for t in group}
    unsure = set(data["unsure"])
    assert len(not_answers) >= 20 and len(unsure) >= 3
    assert not not_answers & unsure
    for item in data["situations"]:
        seen: dict[str, str] = {}
        for option in item["options"]:
            key = (item["entry"], item["situation"], option["value"])
            assert len(set(option["paraphrases"])) >= 2, key
            assert option["label"] not in option["paraphrases"], key  # the label is tested anyway
            for text in option["paraphrases"]:
                assert isinstance(text, str) and text.strip()
                where = (item["entry"], item["situation"], option["value"], text)
                assert seen.setdefault(text, option["value"]) == option["value"], where
                assert text not in not_answers and text not in unsure, where


@pytest.mark.parametrize("value", ["yes", "no"])
def test_yes_no_values_are_strings(value: str) -> None:
    """YAML 1.1 reads a bare yes/no as a boolean: the values must be quoted in the file."""
    values = {o["value"] for item in load()["situations"] for o in item["options"]}
    assert value in values and not any(isinstance(v, bool) for v in values)
