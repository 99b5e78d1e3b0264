"""The search engine: BM25 + dense retrieval fused into one ranking, with answer-or-abstain.

Scores are made comparable before fusion: dense cosine similarity is mapped onto [0, 1] between the
encoder's "unrelated" and "paraphrase" levels, and BM25 is expressed as the share of the query's
information (IDF mass) that the entry matches, scaled by its rank-relative score. The fused score is
an absolute confidence, so one threshold decides answerability for any knowledge base size.
"""

from __future__ import annotations

import re
import threading
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import numpy as np

from core.settings import Settings
from embeddings.cache import CachedEncoder
from embeddings.index import VectorIndex
from knowledge.models import Entry
from retrieval.bm25 import Bm25Index
from retrieval.pinyin import PinyinTermIndex, term_spans
from retrieval.rerank import Reranker, rerank
from retrieval.text import Lexicon, add_user_words, lexical_tokens, name_words

Mode = Literal["bm25", "dense", "hybrid"]
NAMED = 0.6  # a question names a service when it holds its title or an alias, or most of their words
NAMED_LEAD = 0.3  # ... clearly more than any other close candidate's
NAME_WORDS_IGNORED = frozenset(
    {"一件事", "办理", "申请", "申领", "登记", "服务", "事项", "个人", "企业", "办事", "相关", "手续", "证明"}
)


def name_strength(entry: Entry, normalised_query: str, lexicon: Lexicon) -> float:
    """How fully a (normalised) question names the entry: 1.0 when its short title (without the part in
    brackets) or one of its aliases appears in it whole, else the largest share of the words of a
    multi-word name that appear in it."""
    best = 0.0
    for name in [re.sub(r"[（(].*?[）)]", "", entry.title), *entry.aliases]:
        norm = lexicon.normalise(name)
        if len(norm) >= 2 and norm in normalised_query:
            return 1.0
        words = [w for w in name_words(norm) if len(w) >= 2 and w not in NAME_WORDS_IGNORED]
        if len(words) >= 2:
            best = max(best, sum(w in normalised_query for w in words) / len(words))
    return best


def _setting_default(name: str) -> float:
    """The default of a setting (``core/settings.py``): the one place that holds it."""
    return float(Settings.model_fields[name].default)


@dataclass(frozen=True)
class EngineParams:
    """The engine's weights and thresholds. Those that are settings (``DENSE_WEIGHT``,
    ``ANSWER_THRESHOLD``, ``AMBIGUITY_MARGIN``) default to the settings' defaults; the running system
    builds its parameters with ``retrieval.live.engine_params`` (the settings and the encoder's
    calibration)."""

    dense_weight: float = _setting_default("dense_weight")
    dense_floor: float = 0.78  # cosine of unrelated Chinese text (maps to 0), for e5-small
    dense_ceiling: float = 0.93  # cosine of a close paraphrase (maps to 1), for e5-small
    answer_threshold: float = _setting_default("answer_threshold")
    ambiguity_margin: float = _setting_default("ambiguity_margin")
    oos_margin: float = -0.02  # abstain when an out-of-scope prototype is this much closer than any entry
    candidates: int = 30
    max_passage_chars: int = 300  # long summaries are cut into passages of this size for the dense index
    max_passages: int = 1  # how many passages of a long summary are indexed (cost grows with each)


@dataclass
class Candidate:
    id: str
    title: str
    score: float
    dense: float = 0.0
    bm25: float = 0.0
    coverage: float = 0.0
    rerank: float | None = None  # cross-encoder probability (RERANKER), None when not re-ranked
    rerank_score: float | None = None


@dataclass
class SearchResult:
    query: str
    answerable: bool
    ambiguous: bool
    candidates: list[Candidate] = field(default_factory=list)
    normalised: str = ""  # the query as searched: pinyin typos corrected, synonyms made canonical

    def to_dict(self) -> dict[str, Any]:
        return {
            "query": self.query,
            "answerable": self.answerable,
            "ambiguous": self.ambiguous,
            "results": [asdict(c) for c in self.candidates],
        }


def passages(text: str, size: int, limit: int) -> list[str]:
    """Up to ``limit`` chunks of at most ``size`` characters, cut after sentence ends where possible."""
    sentences = [m for m in re.split(r"(?<=[。！？；!?;\n])", text) if m.strip()]
    chunks: list[str] = []
    current = ""
    for sentence in sentences:
        while len(sentence) > size:  # a very long sentence is hard-cut
            if current:
                chunks.append(current)
                current = ""
            chunks.append(sentence[:size])
            sentence = sentence[size:]
        if len(current) + len(sentence) > size:
            chunks.append(current)
            current = ""
        current += sentence
    if current.strip():
        chunks.append(current)
    return [c.strip() for c in chunks if c.strip()][:limit] or [text[:size]]


def entry_tokens(entry: Entry, lexicon: Lexicon) -> list[str]:
    """The entry's lexical document; the title and aliases count more than the other fields."""
    weighted = [(entry.title, 3), *((a, 2) for a in entry.aliases)]
    weighted += [(q, 1) for q in entry.similar_questions]
    weighted += [(entry.summary, 1), *((m.name, 1) for m in entry.bundled_matters)]
    out: list[str] = []
    for text, weight in weighted:
        out += lexical_tokens(lexicon.normalise(text)) * weight
    return out


def entry_terms(entry: Entry) -> list[str]:
    """What a pinyin typo can be corrected to in this entry: its title and aliases, or each of their
    Chinese runs (of at most ``MAX_TERM_CHARS``). Words inside them are not terms: on 2,262 real guides
    they turned correct text into typos of generic words (规划时 → 规划师, 负责任 → 负责人)."""
    return list(dict.fromkeys(t for text in [entry.title, *entry.aliases] for t in term_spans(text)))


class _Snapshot:
    """Immutable indexes; searches use one snapshot, rebuilds swap in a new one."""

    def __init__(
        self,
        entries: dict[str, Entry],
        bm25: Bm25Index,
        dense: VectorIndex,
        pinyin: PinyinTermIndex | None = None,
    ) -> None:
        self.entries, self.bm25, self.dense = entries, bm25, dense
        self.pinyin = pinyin or PinyinTermIndex()


class _WithEntry:
    """A dense index seen with one entry's vectors replaced (what-if search); the index is untouched."""

    def __init__(self, base: VectorIndex, entry_id: str, vectors: np.ndarray) -> None:
        self.base, self.entry_id, self.vectors = base, entry_id, vectors

    def search(self, query: np.ndarray, k: int = 10) -> list[tuple[str, float]]:
        hits = [(i, s) for i, s in self.base.search(query, k + 1) if i != self.entry_id]
        sims = sorted((float(x) for x in self.vectors @ query), reverse=True) or [-1.0]
        own = sims[0]
        if len(sims) >= 3:  # scored as the index scores an entry with several paraphrases
            own -= self.base.second_weight * (sims[0] - sims[1])
        return sorted([*hits, (self.entry_id, own)], key=lambda h: -h[1])[:k]


class SearchEngine:
    def __init__(
        self,
        encoder: CachedEncoder,
        lexicon: Lexicon,
        params: EngineParams | None = None,
        reranker: Reranker | None = None,
    ) -> None:
        self.encoder, self.lexicon = encoder, lexicon
        self.params = params or EngineParams()
        add_user_words(lexicon.terms())
        # the lexicon's terms (canonical and variants) are always known; the entries' come and go
        self._lexicon_terms = PinyinTermIndex().with_changes(lexicon.terms())
        self._snap = _Snapshot({}, Bm25Index(), VectorIndex(encoder.dim), self._lexicon_terms)
        self.reranker = reranker
        self._write = threading.Lock()
        self.knowledge_version = 0
        self._oos = VectorIndex(encoder.dim)
        self._tokens: dict[str, tuple[Entry, list[str]]] = {}
        self._terms: dict[str, tuple[Entry, list[str]]] = {}

    def set_out_of_scope(self, prototypes: dict[str, list[str]]) -> None:
        """Examples of what the assistant must not answer, by category (see knowledge/out_of_scope.yml)."""
        index = VectorIndex(self.encoder.dim)
        index.add_many(
            [(cat, self.encoder.encode_questions(list(texts))) for cat, texts in prototypes.items() if texts]
        )
        self._oos = index

    # -- building ------------------------------------------------------------------------------
    def _texts(self, entry: Entry) -> tuple[list[str], list[str]]:
        """What represents an entry in the dense index: its questions and its summary's passages."""
        p = self.params
        chunks = passages(entry.summary, p.max_passage_chars, p.max_passages)
        questions = [t for t in entry.search_texts() if t != entry.summary]
        if entry.title in chunks[0]:
            # a title that only repeats the summary's opening is no question of its own: encoded on
            # the question side it would match questions it does not answer
            questions = [t for t in questions if t != entry.title]
        return questions, chunks

    def _vectors(self, entry: Entry) -> Any:
        questions, chunks = self._texts(entry)
        return np.vstack([self.encoder.encode_questions(questions), self.encoder.encode_passages(chunks)])

    def _prefetch(self, entries: list[Entry], batch: int = 64) -> None:
        """Encode many entries' texts in batches (the encoder runs texts in parallel), filling the cache."""
        if len(entries) < 2:
            return
        texts = [self._texts(e) for e in entries]
        questions = [q for qs, _ in texts for q in qs]
        chunks = [c for _, cs in texts for c in cs]
        for start in range(0, len(questions), batch):
            self.encoder.encode_questions(questions[start : start + batch])
        for start in range(0, len(chunks), batch):
            self.encoder.encode_passages(chunks[start : start + batch])

    def _tokens_for(self, entry: Entry) -> list[str]:
        """The entry's BM25 tokens, cut once per entry version (jieba learns its title first)."""
        cached = self._tokens.get(entry.id)
        if cached is None or cached[0] != entry:
            add_user_words([entry.title, *entry.aliases])
            cached = self._tokens[entry.id] = (entry, entry_tokens(entry, self.lexicon))
        return cached[1]

    def _terms_for(self, entry: Entry) -> list[str]:
        """The entry's terms for the pinyin index, once per entry version."""
        cached = self._terms.get(entry.id)
        if cached is None or cached[0] != entry:
            cached = self._terms[entry.id] = (entry, entry_terms(entry))
        return cached[1]

    def rebuild(self, entries: list[Entry], dense: VectorIndex | None = None) -> None:
        """Build both indexes from scratch and swap them in atomically."""
        by_id = {e.id: e for e in entries}
        add_user_words(t for e in entries for t in [e.title, *e.aliases])
        for stale in set(self._tokens) - set(by_id):
            del self._tokens[stale]
        for stale in set(self._terms) - set(by_id):
            del self._terms[stale]
        bm25 = Bm25Index()
        bm25.build([(e.id, self._tokens_for(e)) for e in entries])
        pinyin = self._lexicon_terms.with_changes(t for e in entries for t in self._terms_for(e))
        if dense is None:
            self._prefetch(entries)
            dense = VectorIndex(self.encoder.dim)
            dense.add_many([(e.id, self._vectors(e)) for e in entries])
        with self._write:
            self._snap = _Snapshot(by_id, bm25, dense, pinyin)

    def _apply(self, new: dict[str, Entry], changed: list[Entry], removed: list[str]) -> None:
        """Swap in a snapshot with ``changed`` upserted and ``removed`` deleted (caller holds the lock)."""
        snap = self._snap
        add_user_words(t for e in changed for t in [e.title, *e.aliases])
        self._prefetch(changed)
        fresh = [e for e in changed if e.id not in snap.dense]
        for entry in changed:
            if entry.id in snap.dense:
                snap.dense.upsert(entry.id, self._vectors(entry))
        # new entries go in as one bulk add (a large first load may switch the index to IVF)
        snap.dense.add_many([(e.id, self._vectors(e)) for e in fresh])
        old_terms = [
            t for i in [*(e.id for e in changed), *removed] for t in self._terms.get(i, (None, []))[1]
        ]
        for entry_id in removed:
            snap.dense.delete(entry_id)
            self._tokens.pop(entry_id, None)
            self._terms.pop(entry_id, None)
        bm25 = snap.bm25.with_changes([(e.id, self._tokens_for(e)) for e in changed], removed)
        pinyin = snap.pinyin.with_changes([t for e in changed for t in self._terms_for(e)], old_terms)
        self._snap = _Snapshot(new, bm25, snap.dense, pinyin)

    def sync(self, entries: list[Entry]) -> tuple[int, int]:
        """Bring the index to ``entries``: upsert changed ones, delete missing ones (no rebuild)."""
        with self._write:
            old = self._snap.entries
            new = {e.id: e for e in entries}
            changed = [e for e in entries if old.get(e.id) != e]
            removed = [i for i in old if i not in new]
            if changed or removed:
                self._apply(new, changed, removed)
        return len(changed), len(removed)

    def upsert(self, entry: Entry) -> None:
        with self._write:
            if self._snap.entries.get(entry.id) != entry:
                self._apply({**self._snap.entries, entry.id: entry}, [entry], [])

    def delete(self, entry_id: str) -> None:
        with self._write:
            if entry_id in self._snap.entries:
                rest = {i: e for i, e in self._snap.entries.items() if i != entry_id}
                self._apply(rest, [], [entry_id])

    @property
    def entries(self) -> dict[str, Entry]:
        return self._snap.entries

    @property
    def dense_index(self) -> VectorIndex:
        return self._snap.dense

    # -- searching -----------------------------------------------------------------------------
    def _dense_conf(self, cosine: float) -> float:
        p = self.params
        return min(1.0, max(0.0, (cosine - p.dense_floor) / (p.dense_ceiling - p.dense_floor)))

    def normalise_query(self, text: str, snap: _Snapshot | None = None) -> str:
        """The query as it is searched: pinyin typos of known terms corrected, then synonyms made
        canonical (公基金怎么提取 → 公积金怎么提取)."""
        return self.lexicon.normalise((snap or self._snap).pinyin.correct(text))

    def search(self, query: str, k: int = 5, mode: Mode = "hybrid") -> SearchResult:
        return self._search(self._snap, query, k, mode)

    def search_with(self, entry: Entry, query: str, k: int = 5) -> SearchResult:
        """What-if search: the result as it would be with ``entry`` (e.g. an editor's draft) in place
        of its live version, or added when it is not live. Nothing is indexed or changed."""
        snap = self._snap
        bm25 = snap.bm25.with_changes([(entry.id, entry_tokens(entry, self.lexicon))])
        dense = _WithEntry(snap.dense, entry.id, self._vectors(entry))
        trial = _Snapshot({**snap.entries, entry.id: entry}, bm25, dense, snap.pinyin)  # type: ignore[arg-type]
        return self._search(trial, query, k, "hybrid")

    def _search(self, snap: _Snapshot, query: str, k: int, mode: Mode) -> SearchResult:
        p = self.params
        text = query.strip()
        normalised = self.normalise_query(text, snap)
        n = max(k, p.candidates)
        lexical = (
            {}
            if mode == "dense"
            else {i: (s, c) for i, s, c in snap.bm25.search(lexical_tokens(normalised), n)}
        )
        dense: dict[str, float] = {}
        if mode != "bm25" and text:
            qvec = self.encoder.encode_queries([normalised])[0]
            dense = dict(snap.dense.search(qvec, n))
        top_bm25 = max((s for s, _ in lexical.values()), default=0.0) or 1.0
        floor = min(dense.values(), default=0.0)
        cands = []
        for entry_id in set(lexical) | set(dense):
            entry = snap.entries.get(entry_id)
            if entry is None:
                continue
            bm, cov = lexical.get(entry_id, (0.0, 0.0))
            cos = dense.get(entry_id, floor)
            lex_score = cov * (0.5 + 0.5 * bm / top_bm25)
            if mode == "bm25":
                score = lex_score
            elif mode == "dense":
                score = self._dense_conf(cos)
            else:
                score = p.dense_weight * self._dense_conf(cos) + (1 - p.dense_weight) * lex_score
            cands.append(
                Candidate(entry_id, entry.title, round(score, 4), round(cos, 4), round(bm, 3), round(cov, 3))
            )
        cands.sort(key=lambda c: (-c.score, -c.dense, c.id))  # saturated scores: closer vector first
        top = cands[0].score if cands else 0.0
        first_dense = cands[0].dense if cands else 0.0
        # -- re-rank hook (RERANKER): re-orders the hybrid top-k and adds its own abstention floor ---
        reranked = self.reranker is not None and mode == "hybrid" and bool(cands) and bool(text)
        if reranked:
            cands = rerank(self.reranker, text, cands, snap.entries)  # type: ignore[arg-type]
        # ----------------------------------------------------------------------------------------
        cands = cands[:k]
        answerable = top >= p.answer_threshold
        if answerable and mode != "bm25" and dense and self._oos.vector_count:
            oos = self._oos.search(qvec, 1)
            if oos and oos[0][1] > first_dense + p.oos_margin:
                answerable = False
        if reranked and cands[0].rerank is not None:
            answerable = answerable and cands[0].rerank >= self.reranker.min_probability  # type: ignore[union-attr]
            gap = (cands[0].rerank_score or 0.0) - (cands[1].rerank_score or 0.0) if len(cands) > 1 else 1.0
        else:
            gap = top - cands[1].score if len(cands) > 1 else 1.0
        ambiguous = answerable and len(cands) > 1 and gap < p.ambiguity_margin
        if ambiguous and not reranked:
            named = self._named_among_close(cands, normalised, snap)
            if named is not None:  # the question names one of the close services: no need to ask
                cands = [cands[named], *cands[:named], *cands[named + 1 :]]
                ambiguous = False
        return SearchResult(text, answerable, ambiguous, cands, normalised)

    def _named_among_close(self, cands: list[Candidate], normalised: str, snap: _Snapshot) -> int | None:
        """Which of the candidates close to the top one the question names, when exactly one is named
        clearly more than the others (公积金提取要带什么: 住房公积金提取, not 退休一件事 whose guide covers
        a withdrawal too). None when no name decides."""
        close = [
            i for i, c in enumerate(cands[:3]) if c.score >= cands[0].score - self.params.ambiguity_margin
        ]
        strength = [name_strength(snap.entries[cands[i].id], normalised, self.lexicon) for i in close]
        order = sorted(range(len(close)), key=lambda j: -strength[j])
        best = order[0]
        runner_up = strength[order[1]] if len(order) > 1 else 0.0
        if strength[best] >= NAMED and strength[best] - runner_up >= NAMED_LEAD:
            return close[best]
        return None
