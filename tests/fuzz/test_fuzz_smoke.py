"""A small version of ``make fuzz`` inside ``make test``: 3 generated cases per operation and pass."""

from __future__ import annotations

from pathlib import Path

import pytest

from retrieval.engine import SearchEngine
from retrieval.live import LiveSearch
from tests.fuzz.runner import fuzz, fuzz_app, fuzz_settings


@pytest.mark.slow
def test_fuzz_smoke_finds_no_5xx_and_no_schema_violation(tmp_path: Path, engine: SearchEngine) -> None:
    s = fuzz_settings(tmp_path)
    live = LiveSearch(s, engine=engine)
    live.ready = True
    result = fuzz(fuzz_app(s, live), examples=3)
    assert result["anonymous_cases"] > 50 and result["staff_cases"] > 50
    assert result["failures"] == []
    assert result["anonymous_5xx"] == result["staff_5xx"] == 0
