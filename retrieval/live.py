"""The live search service each process holds: warm-up from the persisted index, then follow the
store's knowledge version so a published edit is searchable within seconds, with no restart.

The out-of-scope prototypes are the file's (``OUT_OF_SCOPE_FILE``) plus the questions editors marked
out of scope in gap mining (category ``MARKED_CATEGORY``); they are reloaded with the knowledge version."""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

import yaml

from core.db import session_factory
from core.settings import Settings
from embeddings.cache import CachedEncoder
from embeddings.encoders import load_encoder
from embeddings.index import Manifest, VectorIndex
from knowledge.gaps import GapMiner
from knowledge.store import EntryStore
from retrieval.engine import EngineParams, SearchEngine
from retrieval.rerank import load_reranker
from retrieval.text import Lexicon

log = logging.getLogger(__name__)
MARKED_CATEGORY = "编辑标记为超出范围"  # the out-of-scope category of questions marked in gap mining
# Bump when what is indexed per entry changes (Entry.search_texts): persisted indexes then rebuild.
INDEX_RECIPE = "questions-as-queries-v4"  # v4: no title vector when it repeats the summary


#: what an encoder's calibration (``calibration.json`` in its model folder) may set
CALIBRATED = ("dense_floor", "dense_ceiling", "answer_threshold", "ambiguity_margin")
#: the engine parameters that are also settings (``DENSE_WEIGHT``, ``ANSWER_THRESHOLD``, ``AMBIGUITY_MARGIN``)
FROM_SETTINGS = ("dense_weight", "answer_threshold", "ambiguity_margin")


def engine_params(settings: Settings, calibration: dict[str, float] | None = None) -> EngineParams:
    """The engine's parameters for one encoder. Each comes from the first of

    1. the setting, when it was set explicitly (an environment variable, ``.env``, or given to
       ``Settings``): ``DENSE_WEIGHT``, ``ANSWER_THRESHOLD``, ``AMBIGUITY_MARGIN``;
    2. ``calibration``, the encoder's own levels (``calibration.json`` in an adapted model's folder,
       written by ``make adapt``): ``dense_floor``/``dense_ceiling`` (its cosine range moved),
       ``answer_threshold`` and ``ambiguity_margin`` (chosen for its scores);
    3. the default: the setting's (``core/settings.py``), or for the dense floor/ceiling e5-small's
       cosine levels (``EngineParams``).

    A calibration value out of range raises ``ValueError`` naming it: no engine is built with it."""
    cal = {name: float(value) for name, value in (calibration or {}).items() if name in CALIBRATED}
    chosen = {name: float(getattr(settings, name)) for name in FROM_SETTINGS}
    chosen.update({name: value for name, value in cal.items() if name not in settings.model_fields_set})
    defaults = EngineParams()
    params = EngineParams(
        dense_weight=chosen["dense_weight"],
        answer_threshold=chosen["answer_threshold"],
        ambiguity_margin=chosen["ambiguity_margin"],
        dense_floor=chosen.get("dense_floor", defaults.dense_floor),
        dense_ceiling=chosen.get("dense_ceiling", defaults.dense_ceiling),
    )
    checks = (
        (("answer_threshold",), 0 < params.answer_threshold < 1),
        (("ambiguity_margin",), 0 <= params.ambiguity_margin < 1),
        (("dense_floor", "dense_ceiling"), params.dense_floor < params.dense_ceiling),
    )
    problems = [
        ", ".join(f"{name}={getattr(params, name)}" for name in names)
        for names, ok in checks
        if not ok and any(name in cal for name in names)
    ]
    if problems:
        raise ValueError(
            "encoder calibration out of range: " + ", ".join(problems) + " (threshold in (0, 1), "
            "margin in [0, 1), dense floor below the ceiling)"
        )
    return params


def make_engine(settings: Settings) -> SearchEngine:
    base = load_encoder(settings.embedding_model)
    encoder = CachedEncoder(base, settings.data_dir / "embeddings.sqlite")
    params = engine_params(settings, getattr(base, "calibration", None))
    reranker = load_reranker(settings.reranker, settings.rerank_k)
    engine = SearchEngine(encoder, Lexicon.load(settings.synonyms_file), params, reranker)
    engine.set_out_of_scope(load_out_of_scope(settings.out_of_scope_file))
    return engine


def load_out_of_scope(path: Path) -> dict[str, list[str]]:
    if not path.exists():
        return {}
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    if not isinstance(data, dict):
        raise ValueError(f"{path.name}: expected a mapping 'category: [examples]'")
    return {str(k): [str(t) for t in v or []] for k, v in data.items()}


class LiveSearch:
    def __init__(self, settings: Settings, engine: SearchEngine | None = None) -> None:
        self.settings = settings
        sessions = session_factory(settings.database_url)
        self.store = EntryStore(sessions)
        self.gaps = GapMiner(sessions)
        self.engine = engine or make_engine(settings)
        self._marked: list[str] | None = None  # out-of-scope questions marked by editors, as loaded
        self.ready = False
        self.last_error: str | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def warm_up(self) -> None:
        version = self.store.knowledge_version()
        entries = self.store.published()
        loaded = VectorIndex.load(self.settings.index_dir, self._index_key(), self.engine.encoder.dim)
        if (
            loaded
            and loaded[1].knowledge_version == version
            and loaded[0].entry_ids() == {e.id for e in entries}
        ):
            self.engine.rebuild(entries, dense=loaded[0])
        else:
            if loaded:
                log.info(
                    "index is at knowledge version %d, store at %d: updating",
                    loaded[1].knowledge_version,
                    version,
                )
                self.engine.rebuild([], dense=loaded[0])
            self.engine.sync(entries)
            self.save(version)
        self.engine.knowledge_version = version
        self.follow_out_of_scope()
        self.ready = True
        log.info("search index ready: %d entries, knowledge version %d", len(entries), version)

    def _index_key(self) -> str:
        return f"{self.engine.encoder.name}#{INDEX_RECIPE}"

    def save(self, version: int) -> None:
        index = self.engine.dense_index
        manifest = Manifest(
            self._index_key(), self.engine.encoder.dim, version, index.entry_count, index.vector_count
        )
        index.save(self.settings.index_dir, manifest)

    def refresh(self) -> bool:
        """Apply knowledge changes if the store moved on; True when something changed."""
        version = self.store.knowledge_version()
        if version == self.engine.knowledge_version:
            return False
        changed, removed = self.engine.sync(self.store.published())
        self.engine.knowledge_version = version
        self.follow_out_of_scope()
        log.info("knowledge version %d: %d entries updated, %d removed", version, changed, removed)
        return True

    def follow_out_of_scope(self) -> None:
        """Reload the out-of-scope prototypes when editors marked more questions out of scope."""
        marked = self.gaps.out_of_scope_questions()
        if marked == (self._marked or []):  # (none marked yet: the engine keeps the file's)
            self._marked = marked
            return
        prototypes = load_out_of_scope(self.settings.out_of_scope_file)
        if marked:
            prototypes[MARKED_CATEGORY] = [*prototypes.get(MARKED_CATEGORY, []), *marked]
        self.engine.set_out_of_scope(prototypes)
        self._marked = marked

    def start(self) -> None:
        """Follow the store in a background thread."""
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self._follow, name="knowledge-follow", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def _follow(self) -> None:
        while not self._stop.wait(self.settings.reload_interval_s):
            try:
                self.refresh()
                self.last_error = None
            except Exception as exc:  # keep serving the last good index
                self.last_error = str(exc)
                log.exception("knowledge refresh failed; serving the previous index")
            time.sleep(0)
