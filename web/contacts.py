"""The bureau's own published contacts: never masked as if a citizen had typed them.

The hotline plus every phone number and e-mail address in the published entries the engine serves,
recomputed when the knowledge version moves on.
"""

from __future__ import annotations

import threading

from core.pii import contacts_in
from retrieval.live import LiveSearch


class BureauContacts:
    def __init__(self, live: LiveSearch, hotline: str) -> None:
        self.live, self.hotline = live, hotline
        self._version: object = None
        self._contacts: frozenset[str] = frozenset({hotline})
        self._lock = threading.Lock()

    def __call__(self) -> frozenset[str]:
        engine = self.live.engine
        entries = engine.entries
        version = (id(entries), engine.knowledge_version, len(entries))
        with self._lock:
            if version != self._version:
                texts = [e.model_dump_json() for e in entries.values()]
                self._contacts = contacts_in(texts) | {self.hotline}
                self._version = version
            return self._contacts
