"""Homophone typos from pinyin keyboards: a span of the query that sounds like a known term becomes it.

Citizens type with pinyin input methods, whose commonest slip is the right sound under the wrong
characters (公基金 for 公积金, 身份正 for 身份证). ``PinyinTermIndex`` keys every known term — the
synonym lexicon's terms and the entries' titles and aliases — by its toneless pinyin. ``correct``
rewrites a span of a query to a term when all of these hold:

- the span has three characters or more: two-character homophones are everywhere in correct text
  (去时 / 去世, 饭点 / 饭店), so a two-character slip is left to the dense encoder;
- they read the same without tones: the span's characters by their usual reading (the input method
  offered the slipped one under it), the term's by their usual reading or their reading in the term
  (行 in 银行 is hang);
- the span differs from the term in one character (two from six characters on), in place, and that
  character is no function character (不, 在, 是…): an input method swaps a content character inside a
  word whose sound it got, it does not retype the word — 户口不在 stays, although 户口不 sounds like
  户口簿, and so does 节水节电 (接水接电);
- the span is no dictionary word of its own (身分证 is left to the synonym lexicon), and cuts through
  neither a dictionary word of the query (身份正在办 is 身份 + 正在办) nor a known term written
  correctly next to it.

Nothing is listed by hand: a new entry or lexicon term is matched by sound as soon as it is indexed.
The index is never changed in place (``with_changes`` returns a new one), like the BM25 index.
"""

from __future__ import annotations

import functools
import itertools
import re
from collections.abc import Iterable

from pypinyin import Style, lazy_pinyin, pinyin

from retrieval.text import FUNCTION_CHARS, is_word, word_spans

Key = tuple[str, ...]

MIN_SPAN_CHARS = 3  # two-character homophones are too common in correct text (去世 / 去时, 饭店 / 饭点)
MAX_TERM_CHARS = 8  # longer spans are not compared (long titles still match through their words)
MAX_KEYS = 16  # reading combinations tried per span
_CJK_RUN = re.compile(r"[\u4e00-\u9fff]+")
# characters an input method does not put in place of a content character
_FUNCTION = frozenset(FUNCTION_CHARS | set("不也都和与及或对给把被从到我你他她它们"))


@functools.lru_cache(maxsize=65536)
def reading(char: str) -> str:
    """The usual toneless reading of one Chinese character."""
    return str(pinyin(char, style=Style.NORMAL, errors="default")[0][0])


def readings_in_context(text: str) -> list[tuple[str, ...]]:
    """Per character of a Chinese run: its usual reading and, if different, its reading in context."""
    context = lazy_pinyin(text, style=Style.NORMAL, errors="default")
    if len(context) != len(text):
        context = [reading(c) for c in text]
    return [tuple(dict.fromkeys((reading(c), r))) for c, r in zip(text, context, strict=True)]


def keys(readings: list[tuple[str, ...]]) -> list[Key]:
    """Every way of reading a span (at most ``MAX_KEYS``)."""
    return [k for k, _ in zip(itertools.product(*readings), range(MAX_KEYS), strict=False)]


def term_spans(text: str) -> list[str]:
    """The Chinese runs of a title or alias that are short enough to be compared as a whole."""
    return [run for run in _CJK_RUN.findall(text) if 2 <= len(run) <= MAX_TERM_CHARS]


class PinyinTermIndex:
    """Known terms by toneless pinyin, with a reference count per term (several entries share words)."""

    def __init__(self) -> None:
        self._refs: dict[str, int] = {}
        self._by_key: dict[Key, tuple[str, ...]] = {}
        self._prefixes: frozenset[Key] = frozenset()  # every key and its prefixes of 2+ syllables

    def __len__(self) -> int:
        return len(self._refs)

    def __contains__(self, term: object) -> bool:
        return term in self._refs

    def with_changes(self, added: Iterable[str] = (), removed: Iterable[str] = ()) -> PinyinTermIndex:
        """A new index with ``added`` terms counted once more and ``removed`` once less; only Chinese
        terms of 2 to ``MAX_TERM_CHARS`` characters are kept."""
        new = PinyinTermIndex()
        new._refs, new._by_key = dict(self._refs), dict(self._by_key)
        prefixes = set(self._prefixes)
        for term in removed:
            count = new._refs.get(term, 0) - 1
            if count > 0:
                new._refs[term] = count
            elif term in new._refs:
                del new._refs[term]
                for key in keys(readings_in_context(term)):
                    rest = tuple(t for t in new._by_key.get(key, ()) if t != term)
                    if rest:
                        new._by_key[key] = rest
                    else:
                        new._by_key.pop(key, None)
        for term in added:
            if not 2 <= len(term) <= MAX_TERM_CHARS or _CJK_RUN.fullmatch(term) is None:
                continue
            new._refs[term] = new._refs.get(term, 0) + 1
            if new._refs[term] == 1 and len(term) >= MIN_SPAN_CHARS:
                for key in keys(readings_in_context(term)):
                    new._by_key[key] = (*new._by_key.get(key, ()), term)
                    prefixes.update(key[:n] for n in range(2, len(key) + 1))
        new._prefixes = frozenset(prefixes)  # prefixes of removed terms linger: they only cost a lookup
        return new

    def correct(self, text: str) -> str:
        """``text`` with every span that sounds like a known term (see the module doc) replaced by it."""
        if not self._refs:
            return text
        return _CJK_RUN.sub(lambda m: self._correct_run(m.group()), text)

    def _correct_run(self, run: str) -> str:
        if len(run) < MIN_SPAN_CHARS:
            return run
        sounds = [reading(c) for c in run]  # the slipped character was picked by its usual reading
        protected: list[tuple[int, int]] | None = None  # computed when a first candidate turns up
        out: list[str] = []
        i = 0
        while i < len(run):
            step, piece = 1, run[i]
            # a term written correctly sounds like itself, so every candidate span is among these
            for n, terms in reversed(self._sounding_like(sounds, i)):
                span = run[i : i + n]
                if span in self._refs:
                    step, piece = n, span
                    break
                term = self._homophone(span, terms)
                if term is None:
                    continue
                if protected is None:
                    protected = word_spans(run) + self._known_spans(run)
                if not any(a < i + n and i < b and not (i <= a and b <= i + n) for a, b in protected):
                    step, piece = n, term
                    break
            out.append(piece)
            i += step
        return "".join(out)

    def _sounding_like(self, sounds: list[str], start: int) -> list[tuple[int, tuple[str, ...]]]:
        """``(length, terms)`` for the spans from ``start`` that read like known terms, shortest
        first; a span is grown only while some key starts with its reading."""
        out: list[tuple[int, tuple[str, ...]]] = []
        key: Key = (sounds[start],)
        for n in range(2, min(MAX_TERM_CHARS, len(sounds) - start) + 1):
            key = (*key, sounds[start + n - 1])
            if key not in self._prefixes:
                break
            terms = self._by_key.get(key)
            if terms and n >= MIN_SPAN_CHARS:
                out.append((n, terms))
        return out

    def _known_spans(self, run: str) -> list[tuple[int, int]]:
        """Where known terms are written correctly in ``run``."""
        return [
            (i, i + n)
            for i in range(len(run))
            for n in range(2, min(MAX_TERM_CHARS, len(run) - i) + 1)
            if run[i : i + n] in self._refs
        ]

    def _homophone(self, span: str, terms: Iterable[str]) -> str | None:
        """The known term (among ``terms``, which read like ``span``) that ``span`` is a typo of."""
        best, best_same = None, 0
        for term in terms:
            pairs = list(zip(span, term, strict=True))
            same = sum(a == b for a, b in pairs)
            if (
                len(span) - same <= max(1, len(span) // 3)
                and same > best_same
                and not any(a != b and a in _FUNCTION for a, b in pairs)
            ):
                best, best_same = term, same
        if best is None or is_word(span):
            return None
        return best
