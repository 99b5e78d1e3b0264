"""The action server reuses the e5 vector Rasa's NLU computed for a message instead of encoding it again."""

from __future__ import annotations

import base64
from typing import Any

import numpy as np
import pytest

from actions import grounding
from embeddings.cache import CachedEncoder
from retrieval.live import LiveSearch
from tests.action_support import tracker


def _shared(text: str, vector: np.ndarray, model: str = "e5-small-q4") -> dict[str, Any]:
    raw = np.asarray(vector, dtype="<f4").tobytes()
    return {"model": model, "text": text, "vector": base64.b64encode(raw).decode("ascii")}


def _with_vector(text: str, shared: Any) -> Any:
    t = tracker(text, "ask_materials")
    t.latest_message["e5_query"] = shared
    return t


def _unit(seed: int) -> np.ndarray:
    v = np.random.default_rng(seed).standard_normal(384).astype(np.float32)
    return v / np.linalg.norm(v)


def test_a_message_rasa_encoded_is_searched_without_encoding_it_again(
    live: LiveSearch, monkeypatch: pytest.MonkeyPatch
) -> None:
    encoder = live.engine.encoder
    assert isinstance(encoder, CachedEncoder)
    text = "退休人员的社保卡丢了去哪补办"
    vector = encoder.encoder.encode_queries([text])[0]
    assert grounding.user_text(_with_vector(text, _shared(text, vector))) == text

    def no_second_encoding(texts: list[str]) -> np.ndarray:
        raise AssertionError(f"encoded again: {texts}")

    monkeypatch.setattr(encoder.encoder, "encode_queries", no_second_encoding)
    result = grounding.search(text)  # the search runs on the vector Rasa sent
    assert np.array_equal(encoder.encode_queries([text])[0], vector)
    assert result.query == text


@pytest.mark.parametrize(
    "shared",
    [
        None,
        "not a dict",
        {"model": "e5-small-q4", "text": "另一句话", "vector": "AAAA"},  # for another text
        {"model": "sentence-transformers:var/models/x", "text": "T", "vector": None},  # no vector
        {"model": "e5-small-q4", "text": "T", "vector": "!!not base64!!"},
    ],
)
def test_a_vector_that_does_not_fit_is_ignored(live: LiveSearch, shared: Any) -> None:
    before = dict(live.engine.encoder._queries)  # type: ignore[attr-defined]
    assert grounding.user_text(_with_vector("T", shared)) == "T"
    assert live.engine.encoder._queries == before  # type: ignore[attr-defined]


def test_the_query_memo_takes_only_unit_vectors_of_its_own_model(live: LiveSearch) -> None:
    encoder = live.engine.encoder
    assert isinstance(encoder, CachedEncoder)
    assert not encoder.remember_query("__memo_test__", _unit(1), "sentence-transformers:var/models/other")
    assert not encoder.remember_query("__memo_test__", _unit(1)[:100], encoder.name)  # another dimension
    assert not encoder.remember_query("__memo_test__", _unit(1) * 3, encoder.name)  # not an embedding
    assert not encoder.remember_query("__memo_test__", np.full(384, np.nan, dtype=np.float32), encoder.name)
    assert encoder.remember_query("__memo_test__", _unit(1), encoder.name)
    assert np.array_equal(encoder.encode_queries(["__memo_test__"])[0], _unit(1))


def test_a_button_payload_is_not_text(live: LiveSearch) -> None:
    assert grounding.user_text(_with_vector("/choose_part", _shared("/choose_part", _unit(2)))) == ""
