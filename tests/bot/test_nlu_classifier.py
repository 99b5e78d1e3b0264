"""bot/nlu_components/intent_classifier.py: the linear intent classifier and its two stages.

The component runs in the Rasa environment, so the checks run there in one subprocess, on features
built by hand: ``a`` and ``b`` are told apart by n-grams alone, except for messages whose n-gram is
shared (``x``), which only the dense (e5) part separates.
"""

from __future__ import annotations

import pytest

from core.settings import ROOT
from tests.rasa_env import RASA_PY, run_in_rasa_env

CHECKS = r"""
import json, sys, tempfile
from pathlib import Path
import numpy as np
import scipy.sparse
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.constants import INTENT, TEXT
from rasa.shared.nlu.training_data.features import Features
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
import nlu_components.intent_classifier as ic
from nlu_components.e5_featurizer import PENDING

A, B, X = [1, 0, 0], [0, 1, 0], [0, 0, 1]
VA, VB = [1.0, 0.0], [0.0, 1.0]

def message(text, sparse, dense=None, intent=None, pending=False):
    m = Message(data={TEXT: text, **({INTENT: intent} if intent else {})})
    m.add_features(Features(scipy.sparse.coo_matrix([sparse]), "sentence", TEXT, "cv"))
    if dense is not None:
        m.add_features(Features(np.array([dense], dtype=np.float32), "sentence", TEXT, "e5"))
    if pending:
        m.set(PENDING, 2.0)
    return m

train = [message("a", A, VA, "a") for _ in range(6)] + [message("b", B, VB, "b") for _ in range(6)]
train += [message("xa", X, VA, "a") for _ in range(6)] + [message("xb", X, VB, "b") for _ in range(6)]
embedded = []
def fake_embed(texts):
    embedded.extend(texts)
    return np.array([[0.0, 0.5] for _ in texts], dtype=np.float32)  # "b"-like meaning, unit/scale 2
ic.embed = fake_embed

out = {}
with tempfile.TemporaryDirectory() as tmp:
    storage = LocalModelStorage(Path(tmp))
    context = ExecutionContext(GraphSchema({}), "test")
    for threshold in (0.0, 0.8):
        config = {**ic.LinearIntentClassifier.get_default_config(), "sparse_first": threshold}
        resource = Resource(f"clf{threshold}")
        clf = ic.LinearIntentClassifier.create(config, storage, resource, context)
        clf.train(TrainingData(train))
        loaded = ic.LinearIntentClassifier.load(config, storage, resource, context)
        embedded.clear()
        sure = message("a again", A, pending=True)
        unsure = message("x again", X, pending=True)
        eager = message("x eager", X, VA)
        loaded.process([sure, unsure, eager])
        out[str(threshold)] = {
            "keys": sorted(loaded.model),
            "embedded": list(embedded),
            "sure": sure.get(INTENT)["name"], "sure_conf": sure.get(INTENT)["confidence"],
            "unsure": unsure.get(INTENT)["name"],
            "eager": eager.get(INTENT)["name"],
            "ranking": [r["name"] for r in unsure.get("intent_ranking")],
            # the embedding computed here travels with the message; one not computed does not
            "shared": [m.get("e5_query") is not None for m in (sure, unsure, eager)],
        }
print("RESULT " + json.dumps(out))
"""


@pytest.mark.skipif(not RASA_PY.exists(), reason="needs the Rasa environment (.venv-rasa)")
def test_the_ngram_model_decides_what_it_is_sure_of_and_the_rest_is_embedded() -> None:
    out = run_in_rasa_env(CHECKS, cwd=ROOT / "bot")
    one_stage, two_stage = out["0.0"], out["0.8"]
    # without sparse_first: no n-gram-only model, every deferred message is embedded
    assert "coef_sparse" not in one_stage["keys"] and one_stage["embedded"] == ["a again", "x again"]
    # with it: the n-gram model is stored beside the full one (plain arrays) and decides "a again"
    assert {"coef_sparse", "intercept_sparse", "coef", "idf", "classes"} <= set(two_stage["keys"])
    assert two_stage["embedded"] == ["x again"]
    assert two_stage["sure"] == "a" and two_stage["sure_conf"] >= 0.8
    # what was embedded here goes to the action server with the parse data (its search reuses it)
    assert one_stage["shared"] == [True, True, False] and two_stage["shared"] == [False, True, False]
    # the shared n-gram is decided by the meaning: the embedding (b-like) or the eager feature (a-like)
    for stage in (one_stage, two_stage):
        assert stage["unsure"] == "b" and stage["eager"] == "a"
        assert sorted(stage["ranking"]) == ["a", "b"]
