"""The bureau's own published contacts: never masked as if a citizen had typed them.

The hotline, the numbers of the bureau profile (``knowledge/bureau.yml``: every site's phone) and every
phone number and e-mail address in the published entries the engine serves, recomputed when the
knowledge version moves on.
"""

from __future__ import annotations

import json
import threading

from core.pii import contacts_in
from knowledge.bureau import current_profile
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
                # (not model_dump_json: it escapes Chinese as \\uXXXX, and a number right after an
                # escape would look glued to letters)
                texts = [json.dumps(e.model_dump(mode="json"), ensure_ascii=False) for e in entries.values()]
                self._contacts = contacts_in(texts) | current_profile().known_numbers() | {self.hotline}
                self._version = version
            return self._contacts
