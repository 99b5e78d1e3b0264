"""make load's figures: the CPU of every Rasa server of the node is one column."""

from __future__ import annotations

from ops.load import rasa_cpu


def test_the_rasa_column_sums_every_rasa_server() -> None:
    cpu = {"rasa": 20.0, "rasa-2": 22.5, "actions": 8.0, "web": 11.0}
    assert rasa_cpu(cpu) == 42.5
    assert rasa_cpu({"rasa": 30.0, "actions": 8.0}) == 30.0
    assert rasa_cpu({"actions": 8.0}) == 0.0
