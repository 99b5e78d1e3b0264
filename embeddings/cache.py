"""An on-disk embedding cache keyed by (model, kind, text hash), so nothing unchanged is re-encoded."""

from __future__ import annotations

import hashlib
import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path

import numpy as np

from embeddings.encoders import Encoder


def text_key(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


class CachedEncoder:
    """Wraps an :class:`Encoder`; passages are cached on disk, queries in a small memory LRU."""

    def __init__(self, encoder: Encoder, path: Path | None) -> None:
        self.encoder = encoder
        self.name, self.dim = encoder.name, encoder.dim
        self.query_id: str = getattr(encoder, "query_id", encoder.name)
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = None
        self.hits = self.misses = 0
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(str(path), check_same_thread=False, timeout=30)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS emb (model TEXT, key TEXT, vec BLOB, PRIMARY KEY (model, key))"
            )
        self._queries: dict[str, np.ndarray] = {}

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        out = []
        for text in texts:
            vec = self._queries.get(text)
            if vec is None:
                vec = self.encoder.encode_queries([text])[0]
                self._keep_query(text, vec)
            out.append(vec)
        return np.stack(out) if out else np.zeros((0, self.dim), dtype=np.float32)

    def remember_query(self, text: str, vector: np.ndarray, model: str) -> bool:
        """Keep a query vector another process computed with the same model (Rasa's NLU encodes each
        message it is unsure of with e5, the same ``query:`` embedding the search needs): searching
        ``text`` then costs no encoder call. Refused (False) for another model or dimension."""
        vec = np.asarray(vector, dtype=np.float32)
        if model != self.query_id or vec.shape != (self.dim,) or not np.all(np.isfinite(vec)):
            return False
        norm = float(np.linalg.norm(vec))
        if not 0.99 < norm < 1.01:  # the encoder's vectors are unit length: anything else is not one
            return False
        self._keep_query(text, vec)
        return True

    def _keep_query(self, text: str, vec: np.ndarray) -> None:
        """The query memo: the 2,048 most recently added texts."""
        if len(self._queries) > 2048 and text not in self._queries:
            self._queries.pop(next(iter(self._queries)))
        self._queries[text] = vec

    def encode_passages(self, texts: list[str]) -> np.ndarray:
        return self._cached(texts, self.name, self.encoder.encode_passages)

    def encode_questions(self, texts: list[str]) -> np.ndarray:
        """Stored questions (similar questions, titles) encoded like queries: question-to-question
        matching is symmetric, so both sides get the query treatment (e5's recommendation)."""
        return self._cached(texts, self.query_id + "#query", self.encoder.encode_queries)

    def _cached(self, texts: list[str], model: str, encode: Callable[[list[str]], np.ndarray]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        keys = [text_key(t) for t in texts]
        found: dict[str, np.ndarray] = {}
        if self._db is not None:
            with self._lock:
                for start in range(0, len(keys), 500):
                    chunk = keys[start : start + 500]
                    marks = ",".join("?" * len(chunk))
                    rows = self._db.execute(
                        f"SELECT key, vec FROM emb WHERE model=? AND key IN ({marks})",
                        [model, *chunk],
                    ).fetchall()
                    for key, blob in rows:
                        found[key] = np.frombuffer(blob, dtype=np.float32)
        todo = [i for i, k in enumerate(keys) if k not in found]
        self.hits += len(texts) - len(todo)
        self.misses += len(todo)
        if todo:
            fresh = encode([texts[i] for i in todo])
            for i, vec in zip(todo, fresh, strict=True):
                found[keys[i]] = vec
            if self._db is not None:
                with self._lock:
                    self._db.executemany(
                        "INSERT OR REPLACE INTO emb VALUES (?, ?, ?)",
                        [(model, keys[i], fresh[j].tobytes()) for j, i in enumerate(todo)],
                    )
                    self._db.commit()
        return np.stack([found[k] for k in keys]).astype(np.float32)
