"""The intent classifier: logistic regression over TF-IDF-weighted word and character n-grams and the
e5 sentence embedding (``E5Featurizer``).

Why not DIET: with the same features, DIET's 5-fold macro-F1 on this data was 0.907–0.917, and it was
certain of its mistakes (户口在乡下 → greet at 0.99). A linear model over the same n-grams plus the
sentence meaning scores ≈ 0.96 with probabilities that say when it is unsure, trains in seconds instead
of minutes and costs well under a millisecond per message (docs/evaluation.md, `make eval-nlu`).

The trained model is stored as plain arrays (``numpy.savez``; no pickle): the IDF weights, the
coefficients, the intercepts and the intent names. Probabilities are the multinomial softmax of the
linear scores, exactly what scikit-learn's ``predict_proba`` returns for this model.

Two stages (``sparse_first``): the e5 embedding is most of the NLU's CPU per message. A second model
over the n-grams alone is trained with the full one; at inference, when the featurizer deferred the
embedding (``E5Featurizer`` with ``on_demand``), a message the n-gram model classifies with at least
``sparse_first`` probability is decided there, and only the others are embedded and classified by the
full model. The threshold was chosen by 5-fold cross-validation of the NLU data (docs/evaluation.md).

Runs in the Rasa environment (Python 3.10) and imports nothing from the app.
"""

from __future__ import annotations

import logging
from typing import Any, Dict, List, Optional, Text

import numpy as np
import scipy.sparse
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.shared.nlu.constants import INTENT, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from nlu_components.e5_featurizer import PENDING, attach, embed

logger = logging.getLogger(__name__)
_FILE = "intent_model.npz"


def _idf(counts: scipy.sparse.csr_matrix) -> np.ndarray:
    """Smoothed inverse document frequency, as scikit-learn's ``TfidfTransformer(smooth_idf=True)``."""
    n = counts.shape[0]
    df = np.bincount(counts.indices, minlength=counts.shape[1]) if counts.nnz else np.zeros(counts.shape[1])
    return np.log((1 + n) / (1 + df)) + 1.0


def _tfidf(counts: scipy.sparse.csr_matrix, idf: np.ndarray) -> scipy.sparse.csr_matrix:
    """Sublinear term frequency (1 + log tf) times IDF, each row scaled to unit length."""
    x = counts.astype(np.float64).tocsr(copy=True)
    x.data = 1.0 + np.log(np.maximum(x.data, 1e-12))
    x = x.multiply(idf[np.newaxis, :]).tocsr()
    norms = np.sqrt(np.asarray(x.multiply(x).sum(axis=1)).ravel())
    norms[norms == 0] = 1.0
    return scipy.sparse.diags(1.0 / norms) @ x


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class LinearIntentClassifier(GraphComponent, IntentClassifier):
    """Multinomial logistic regression on the message's sentence features."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        # C: inverse regularisation strength; chosen once by 5-fold cross-validation of the NLU data
        # sparse_first: the n-gram-only model decides a message it is this sure of (0 = always the full model)
        return {"C": 30.0, "max_iter": 5000, "ranking_length": 10, "sparse_first": 0.0}

    @staticmethod
    def required_packages() -> List[Text]:
        return ["sklearn"]

    def __init__(
        self,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        model: Optional[Dict[str, np.ndarray]] = None,
    ) -> None:
        self.config = {**self.get_default_config(), **config}
        self._model_storage = model_storage
        self._resource = resource
        self.model = model

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "LinearIntentClassifier":
        return cls(config, model_storage, resource)

    # -- features ------------------------------------------------------------------------------
    @staticmethod
    def _parts(messages: List[Message]) -> tuple[scipy.sparse.csr_matrix, np.ndarray]:
        sparse, dense = [], []
        for m in messages:
            s = m.get_sparse_features(TEXT)[1]
            d = m.get_dense_features(TEXT)[1]
            sparse.append(scipy.sparse.csr_matrix(s.features) if s is not None else None)
            dense.append(np.asarray(d.features).reshape(-1) if d is not None else None)
        width = max((x.shape[1] for x in sparse if x is not None), default=0)
        rows = [x if x is not None else scipy.sparse.csr_matrix((1, width)) for x in sparse]
        dwidth = max((len(x) for x in dense if x is not None), default=0)
        drows = [x if x is not None else np.zeros(dwidth) for x in dense]
        counts = scipy.sparse.vstack(rows).tocsr() if rows else scipy.sparse.csr_matrix((0, width))
        return counts, np.vstack(drows) if drows else np.zeros((0, dwidth))

    def _matrix(self, messages: List[Message], idf: np.ndarray) -> scipy.sparse.csr_matrix:
        counts, dense = self._parts(messages)
        return scipy.sparse.hstack([_tfidf(counts, idf), scipy.sparse.csr_matrix(dense)]).tocsr()

    @staticmethod
    def _softmax(x: scipy.sparse.csr_matrix, coef: np.ndarray, intercept: np.ndarray) -> np.ndarray:
        width = coef.shape[1]
        if x.shape[1] != width:  # a featurizer changed since training: pad or cut, never crash
            x = scipy.sparse.hstack([x, scipy.sparse.csr_matrix((x.shape[0], max(0, width - x.shape[1])))])
            x = x.tocsr()[:, :width]
        scores = np.asarray(x @ coef.T) + intercept
        if scores.shape[1] == 1:  # two intents: scikit-learn's binary form
            scores = np.hstack([-scores, scores])
        scores -= scores.max(axis=1, keepdims=True)
        p = np.exp(scores)
        return np.asarray(p / p.sum(axis=1, keepdims=True))

    # -- training ------------------------------------------------------------------------------
    def train(self, training_data: TrainingData) -> Resource:
        from sklearn.linear_model import LogisticRegression

        examples = [e for e in training_data.intent_examples if e.get(INTENT) and e.get(TEXT)]
        labels = sorted({e.get(INTENT) for e in examples})
        if len(labels) < 2:
            logger.debug("LinearIntentClassifier: fewer than two intents, nothing to train")
            return self._resource
        counts, _ = self._parts(examples)
        idf = _idf(counts)
        y = [e.get(INTENT) for e in examples]
        clf = LogisticRegression(C=float(self.config["C"]), max_iter=int(self.config["max_iter"]))
        x = self._matrix(examples, idf)
        clf.fit(x, y)
        self.model = {
            "idf": idf,
            "coef": clf.coef_,
            "intercept": clf.intercept_,
            "classes": np.array(clf.classes_, dtype=str),
        }
        if float(self.config["sparse_first"]) > 0 and x.shape[1] > len(idf):  # there is a dense part
            quick = LogisticRegression(C=float(self.config["C"]), max_iter=int(self.config["max_iter"]))
            quick.fit(x[:, : len(idf)], y)
            assert list(quick.classes_) == list(clf.classes_)
            self.model.update(coef_sparse=quick.coef_, intercept_sparse=quick.intercept_)
        with self._model_storage.write_to(self._resource) as directory:
            np.savez(directory / _FILE, **self.model)
        return self._resource

    @classmethod
    def load(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> "LinearIntentClassifier":
        try:
            with model_storage.read_from(resource) as directory:
                with np.load(directory / _FILE, allow_pickle=False) as data:
                    model = {k: data[k] for k in data.files}
        except (ValueError, FileNotFoundError):
            logger.debug("LinearIntentClassifier: no trained model in %s", resource.name)
            model = None
        return cls(config, model_storage, resource, model)

    # -- prediction ----------------------------------------------------------------------------
    def probabilities(self, messages: List[Message]) -> np.ndarray:
        """Softmax of the linear scores, one row per message, columns in ``model['classes']``.

        A message whose embedding was deferred is decided by the n-gram model when that is sure enough
        (``sparse_first``); the others are embedded here and go to the full model."""
        assert self.model is not None
        model, threshold = self.model, float(self.config["sparse_first"])
        counts, dense = self._parts(messages)
        tfidf = _tfidf(counts, model["idf"])
        pending = [m.get(PENDING) is not None and m.get_dense_features(TEXT)[1] is None for m in messages]
        out = np.zeros((len(messages), len(model["classes"])))
        decided = np.zeros(len(messages), dtype=bool)
        if threshold > 0 and "coef_sparse" in model and any(pending):
            quick = self._softmax(tfidf, model["coef_sparse"], model["intercept_sparse"])
            decided = np.array(pending) & (quick.max(axis=1) >= threshold)
            out[decided] = quick[decided]
        rest = [i for i in range(len(messages)) if not decided[i]]
        if not rest:
            return out
        embed_now = [i for i in rest if pending[i]]
        if embed_now:
            vectors = embed([messages[i].get(TEXT) for i in embed_now])
            dense = dense if dense.shape[1] == vectors.shape[1] else np.zeros((len(messages), vectors.shape[1]))
            for i, v in zip(embed_now, vectors):
                dense[i] = v * float(messages[i].get(PENDING))
                attach(messages[i], v)
        x = scipy.sparse.hstack([tfidf[rest], scipy.sparse.csr_matrix(dense[rest])]).tocsr()
        out[rest] = self._softmax(x, model["coef"], model["intercept"])
        return out

    def process(self, messages: List[Message]) -> List[Message]:
        todo = [m for m in messages if m.get(TEXT)]
        if self.model is None or not todo:
            for m in messages:
                m.set(INTENT, {"name": None, "confidence": 0.0}, add_to_output=True)
                m.set("intent_ranking", [], add_to_output=True)
            return messages
        classes = [str(c) for c in self.model["classes"]]
        for message, row in zip(todo, self.probabilities(todo)):
            order = np.argsort(-row)
            ranking = [{"name": classes[i], "confidence": float(row[i])} for i in order]
            message.set(INTENT, ranking[0], add_to_output=True)
            n = int(self.config["ranking_length"])
            message.set("intent_ranking", ranking[:n] if n > 0 else ranking, add_to_output=True)
        return messages
