"""bot/nlu_components/e5_featurizer.py: the dense sentence feature Rasa's intent classifier reads.

The component runs in the Rasa environment, so the checks run there in one subprocess.
"""

from __future__ import annotations

import functools
from typing import Any

import pytest
import yaml

from core.settings import ROOT
from tests.rasa_env import RASA_PY, run_in_rasa_env

CHECKS = r"""
import json
import numpy as np
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from nlu_components.e5_featurizer import E5Featurizer

def featurizer(scale):
    return E5Featurizer({**E5Featurizer.get_default_config(), "scale": scale}, "e5")

texts = ["户口在乡下", "我是农村户口", "讲个笑话", "户口在乡下"]
messages = [Message(data={TEXT: t}) for t in texts] + [Message(data={"intent": "greet"})]
featurizer(2.0).process(messages)
vectors = []
for m in messages[:4]:
    seq, sent = m.get_dense_features(TEXT)
    vectors.append(sent.features[0])
    assert seq is None and sent.features.shape == (1, 384), sent.features.shape
v = np.array(vectors)
out = {
    "norms": [round(float(n), 3) for n in np.linalg.norm(v, axis=1)],
    "near": float(v[0] @ v[1]), "far": float(v[0] @ v[2]),
    "same": bool(np.allclose(v[0], v[3])),
    "no_text_no_feature": messages[4].get_dense_features(TEXT) == (None, None),
}
data = TrainingData([Message(data={TEXT: "公租房谁能申请", "intent": "ask_conditions"})])
featurizer(1.0).process_training_data(data)
out["training"] = data.training_examples[0].get_dense_features(TEXT)[1].features.shape[1]
import base64
from nlu_components.e5_featurizer import VECTOR_KEY
shared = messages[0].as_dict(only_output_properties=True).get(VECTOR_KEY)
out["shared"] = {
    "model": shared["model"], "text": shared["text"],
    "equal": bool(np.allclose(np.frombuffer(base64.b64decode(shared["vector"]), dtype="<f4") * 2.0, v[0], atol=1e-6)),
    "not_in_training": data.training_examples[0].get(VECTOR_KEY) is None,
}
from nlu_components.e5_featurizer import PENDING
lazy = E5Featurizer({**E5Featurizer.get_default_config(), "scale": 2.0, "on_demand": True}, "e5")
deferred = [Message(data={TEXT: "户口在乡下"}), Message(data={"intent": "greet"})]
lazy.process(deferred)
out["on_demand"] = [deferred[0].get(PENDING), deferred[0].get_dense_features(TEXT) == (None, None),
                    deferred[1].get(PENDING)]
data = TrainingData([Message(data={TEXT: "公租房谁能申请", "intent": "ask_conditions"})])
lazy.process_training_data(data)
out["on_demand_training"] = data.training_examples[0].get_dense_features(TEXT)[1].features.shape[1]
try:
    featurizer(0)
    out["bad_scale_refused"] = False
except ValueError:
    out["bad_scale_refused"] = True
import nlu_components.e5_featurizer as e5
calls = []
real = e5._encoder()
class Counting:
    def query(self, texts):
        calls.append(list(texts))
        return real.query(texts)
e5._MODEL, e5._MEMO, e5.MEMO_SIZE = Counting(), e5.OrderedDict(), 3
first = e5.embed(["居住证怎么办", "转人工", "居住证怎么办"])
again = e5.embed(["转人工", "居住证怎么办"])
e5.embed(["谢谢", "你好"])  # four distinct texts through a memo of three: the least recently used goes
e5.embed(["居住证怎么办", "转人工"])
out["memo"] = {
    "calls": calls, "shape": list(first.shape),
    "same": bool(np.array_equal(first[0], first[2]) and np.array_equal(first[1], again[0])),
    "fresh_equal": bool(np.allclose(real.query(["居住证怎么办"])[0], first[0], atol=1e-6)),
    "size": len(e5._MEMO),
}
print("RESULT " + json.dumps(out))
"""


@functools.cache
def _checks() -> dict[str, Any]:
    """One run of the checks in the Rasa environment (a subprocess of several seconds) for both tests."""
    return dict(run_in_rasa_env(CHECKS, cwd=ROOT / "bot"))


@pytest.mark.skipif(not RASA_PY.exists(), reason="needs the Rasa environment (.venv-rasa)")
def test_messages_get_their_meaning_as_one_scaled_sentence_vector() -> None:
    out = _checks()
    assert out["norms"] == [2.0, 2.0, 2.0, 2.0]  # unit vectors times the configured scale
    assert out["near"] > out["far"]  # a paraphrase is nearer than a joke (e5 cosines sit close together)
    assert out["same"] and out["no_text_no_feature"]
    assert out["training"] == 384 and out["bad_scale_refused"]
    # the unscaled vector travels in the parse data to the action server (its search reuses it)
    assert out["shared"] == {
        "model": "e5-small-q4",
        "text": "户口在乡下",
        "equal": True,
        "not_in_training": True,
    }
    # on_demand: inference defers the embedding to the classifier (the scale travels with the message);
    # training data is embedded all the same
    assert out["on_demand"] == [2.0, True, None] and out["on_demand_training"] == 384


@pytest.mark.skipif(not RASA_PY.exists(), reason="needs the Rasa environment (.venv-rasa)")
def test_a_text_seen_recently_is_not_encoded_again_and_the_memo_stays_bounded() -> None:
    memo = _checks()["memo"]
    # one encoder call per distinct new text; a repeat (in the batch or later) is served from the memo,
    # the same vector; the least recently used text (转人工) is evicted (memo of 3) and encoded again
    assert memo["calls"] == [["居住证怎么办", "转人工"], ["谢谢", "你好"], ["转人工"]]
    assert memo["shape"] == [3, 384] and memo["same"] and memo["fresh_equal"]
    assert memo["size"] == 3


def test_the_pipeline_reads_the_e5_feature_before_the_intent_classifier() -> None:
    names = [c["name"] for c in yaml.safe_load((ROOT / "bot" / "config.yml").read_text())["pipeline"]]
    e5 = names.index("nlu_components.e5_featurizer.E5Featurizer")
    assert e5 < names.index("nlu_components.intent_classifier.LinearIntentClassifier")
    assert (ROOT / "bot" / "nlu_components" / "e5_featurizer.py").exists()
