"""retrieval/live.py ``engine_params``: the settings hold the thresholds' defaults, an encoder's calibration
replaces them for that encoder, and a variable set explicitly replaces the calibration."""

from __future__ import annotations

import hashlib
from dataclasses import fields
from pathlib import Path

import numpy as np
import pytest

from core.settings import Settings
from retrieval import live
from retrieval.engine import EngineParams
from retrieval.live import FROM_SETTINGS, engine_params, make_engine

CALIBRATION = {"dense_floor": 0.70, "dense_ceiling": 0.90, "answer_threshold": 0.5, "ambiguity_margin": 0.06}


@pytest.fixture(autouse=True)
def _no_threshold_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in FROM_SETTINGS:
        monkeypatch.delenv(name.upper(), raising=False)


def test_the_engines_defaults_are_the_settings_defaults(tmp_path: Path) -> None:
    defaults, settings = EngineParams(), Settings(data_dir=tmp_path)
    for name in FROM_SETTINGS:
        assert getattr(defaults, name) == Settings.model_fields[name].default == getattr(settings, name)
    assert engine_params(settings) == defaults


def test_every_setting_the_engine_takes_is_a_field_of_both() -> None:
    params = {f.name for f in fields(EngineParams)}
    assert set(FROM_SETTINGS) <= params and set(FROM_SETTINGS) <= set(Settings.model_fields)
    assert set(live.CALIBRATED) <= params


def test_an_encoders_calibration_replaces_the_defaults(tmp_path: Path) -> None:
    params = engine_params(Settings(data_dir=tmp_path), {**CALIBRATION, "trained_on": 1234})
    assert (params.dense_floor, params.dense_ceiling) == (0.70, 0.90)
    assert (params.answer_threshold, params.ambiguity_margin) == (0.5, 0.06)
    assert params.dense_weight == EngineParams().dense_weight  # not a calibrated value
    only_range = engine_params(Settings(data_dir=tmp_path), {"dense_floor": 0.7, "dense_ceiling": 0.9})
    assert only_range.answer_threshold == EngineParams().answer_threshold  # what it does not name stays


def test_a_variable_set_in_the_environment_replaces_the_calibration(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("ANSWER_THRESHOLD", "0.45")
    params = engine_params(Settings(data_dir=tmp_path), CALIBRATION)
    assert params.answer_threshold == 0.45  # set: the operator's word
    assert params.ambiguity_margin == 0.06 and params.dense_floor == 0.70  # not set: the encoder's
    # set to the default's own value is still set
    monkeypatch.setenv("ANSWER_THRESHOLD", "0.4")
    assert engine_params(Settings(data_dir=tmp_path), CALIBRATION).answer_threshold == 0.4
    given = Settings(data_dir=tmp_path, ambiguity_margin=0.04)
    assert engine_params(given, CALIBRATION).ambiguity_margin == 0.04


@pytest.mark.parametrize(
    ("calibration", "named"),
    [
        ({"answer_threshold": 1.2}, "answer_threshold=1.2"),
        ({"answer_threshold": 0}, "answer_threshold=0"),
        ({"ambiguity_margin": -0.1}, "ambiguity_margin=-0.1"),
        ({"dense_floor": 0.95}, "dense_floor=0.95, dense_ceiling=0.93"),
    ],
)
def test_a_calibration_out_of_range_is_refused(
    tmp_path: Path, calibration: dict[str, float], named: str
) -> None:
    with pytest.raises(ValueError, match=f"calibration out of range: {named}"):
        engine_params(Settings(data_dir=tmp_path), calibration)


class CalibratedEncoder:
    """An encoder whose model folder came with a calibration.json (what ``load_encoder`` gives)."""

    name, dim = "calibrated-test", 8
    calibration = CALIBRATION

    def _encode(self, texts: list[str]) -> np.ndarray:
        rows = [np.frombuffer(hashlib.sha256(t.encode()).digest()[:8], np.uint8) + 1.0 for t in texts]
        vectors = np.array(rows, dtype=np.float32).reshape(len(texts), self.dim)
        return vectors / np.linalg.norm(vectors, axis=1, keepdims=True).clip(1e-12)

    encode_queries = encode_passages = _encode


def test_the_running_engine_uses_its_encoders_calibration(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(live, "load_encoder", lambda spec: CalibratedEncoder())
    engine = make_engine(Settings(data_dir=tmp_path))
    assert (engine.params.answer_threshold, engine.params.dense_floor) == (0.5, 0.70)
    monkeypatch.setenv("AMBIGUITY_MARGIN", "0.02")
    assert make_engine(Settings(data_dir=tmp_path)).params.ambiguity_margin == 0.02
