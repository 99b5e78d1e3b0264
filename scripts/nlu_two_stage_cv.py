"""Paired cross-validation of the intent classifier's two stages. Runs in the Rasa environment, from bot/:

    cd bot && ../.venv-rasa/bin/python ../scripts/nlu_two_stage_cv.py

The same folds for every variant (3 shuffles × 5 folds of bot/data/nlu): the full model (n-grams and the
e5 embedding for every message) against the n-gram-only model deciding each message it gives ≥ τ. The
features replicate the pipeline with scikit-learn (jieba words, character 1–4-grams, TF-IDF as the
classifier computes it, e5 × 2), so absolute figures sit a little below `make eval-nlu`; the comparison
between variants is what the script is for. It reads only the NLU training data.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import jieba
import numpy as np
import scipy.sparse
from rasa.shared.nlu.training_data.loading import load_data
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score
from sklearn.model_selection import StratifiedKFold

sys.path.insert(0, str(Path.cwd()))  # bot/: nlu_components
from nlu_components.e5_featurizer import embed
from nlu_components.intent_classifier import _idf, _tfidf

TAUS = (0.8, 0.9, 0.95, 0.97)
SEEDS = (1, 2, 3)


def main() -> None:
    jieba.setLogLevel(logging.WARNING)
    examples = load_data("data/nlu").intent_examples
    texts = [e.get("text") for e in examples]
    y = np.array([e.get("intent") for e in examples])
    dense = embed(texts) * 2.0
    word = CountVectorizer(tokenizer=jieba.lcut, lowercase=True, token_pattern=None)
    char = CountVectorizer(analyzer="char_wb", ngram_range=(1, 4))
    scores: dict[str, list[float]] = {"full": [], **{str(t): [] for t in TAUS}}
    decided: dict[str, list[float]] = {str(t): [] for t in TAUS}
    for seed in SEEDS:
        full_pred = np.empty(len(y), dtype=object)
        staged = {t: np.empty(len(y), dtype=object) for t in TAUS}
        quick_count = dict.fromkeys(TAUS, 0)
        for train, test in StratifiedKFold(5, shuffle=True, random_state=seed).split(texts, y):
            tr_texts, te_texts = [texts[i] for i in train], [texts[i] for i in test]
            c_train = scipy.sparse.hstack(
                [word.fit_transform(tr_texts), char.fit_transform(tr_texts)]
            ).tocsr()
            c_test = scipy.sparse.hstack([word.transform(te_texts), char.transform(te_texts)]).tocsr()
            idf = _idf(c_train)
            t_train, t_test = _tfidf(c_train, idf), _tfidf(c_test, idf)
            full = LogisticRegression(C=30, max_iter=5000)
            full.fit(scipy.sparse.hstack([t_train, dense[train]]).tocsr(), y[train])
            quick = LogisticRegression(C=30, max_iter=5000).fit(t_train, y[train])
            pf = full.predict(scipy.sparse.hstack([t_test, dense[test]]).tocsr())
            full_pred[test] = pf
            pq = quick.predict_proba(t_test)
            quick_label = quick.classes_[pq.argmax(axis=1)]
            for t in TAUS:
                sure = pq.max(axis=1) >= t
                quick_count[t] += int(sure.sum())
                staged[t][test] = np.where(sure, quick_label, pf)
        scores["full"].append(f1_score(y, full_pred.astype(str), average="macro"))
        for t in TAUS:
            scores[str(t)].append(f1_score(y, staged[t].astype(str), average="macro"))
            decided[str(t)].append(quick_count[t] / len(y))
    print("| variant | macro-F1 per shuffle | mean | decided by the n-gram model |")
    print("|---|---|---|---|")
    for name, values in scores.items():
        share = f"{np.mean(decided[name]):.0%}" if name in decided else "—"
        label = "every message embedded" if name == "full" else f"n-gram model decides at ≥ {name}"
        per = ", ".join(f"{v:.4f}" for v in values)
        print(f"| {label} | {per} | {np.mean(values):.4f} | {share} |")


if __name__ == "__main__":
    main()
