"""Typed answers to situation questions (情形): map what a citizen types onto one of the options.

Nothing here is per service. The matcher reads the question and its options from the entry and
uses general Chinese answer forms (是的/不是/不清楚, 第一个, part of an option's label) plus a small,
editable lexicon of *answer concepts* (``knowledge/answer_cues.yml``: "我自己去" answers a question
about delegating with no) that apply to every entry whose question mentions the concept.

``match_option`` returns an option value, ``UNSURE``, or ``None`` when the reply is no answer
(a question, another topic, noise). ``strong=True`` only accepts unmistakable forms; the dialogue
first tries those, then checks whether the reply is a new question, and only then accepts the
looser paraphrase matches.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import jieba
import jieba.posseg as pseg
import yaml

from knowledge.checklist import UNSURE
from knowledge.models import Situation

CUES_FILE = Path(__file__).resolve().parent / "answer_cues.yml"

PUNCT = re.compile(r"[\s,，.。!！?？、;；:：~～…\"'“”‘’()（）\[\]【】<>《》·\-—_/\\]+")
LEADING = re.compile(r"^(?:嗯+|呃+|额+|哦+|噢+|啊+|唔+|那个|这个|就是|我说|回答|答)+")
TRAILING = re.compile(r"(?:的|啊|呀|吧|哦|噢|呢|啦|哈|嘛|哟|了|的呀|的啊|的吧)+$")
QUESTION = re.compile(
    r"[?？]|吗|么$|呢$|多久|多长|几天|(?<![招请雇聘])几个|几点|几号|多少|哪|什么|啥|怎么|咋|如何|为什么|"
    r"能不能|可不可以|可以吗|行不行|是不是|有没有|要不要|需不需要|会不会"
)
UNSURE_WORDS = (
    "不确定", "不知道", "不清楚", "说不好", "说不清", "不太清楚", "不太确定", "不太知道", "不了解",
    "搞不清", "不晓得", "不记得", "忘了", "没想好", "跳过", "不好说", "拿不准", "不懂",
)  # fmt: skip
YES_EXACT = {
    "是", "是的", "是滴", "对", "对的", "对呀", "对啊", "嗯", "嗯嗯", "恩", "有", "有的", "要", "需要", "好",
    "好的", "行", "可以", "确定", "没错", "当然", "肯定", "yes", "y", "ok", "对头", "是呀", "是啊", "要的",
    "需要的", "有呀", "已经", "已", "办了", "已经办了", "结了", "属于", "算是", "对对", "对对对", "是是",
}  # fmt: skip
NO_EXACT = {
    "否", "不", "不是", "没有", "没", "无", "不用", "不要", "不需要", "没得", "木有", "no", "n", "不对",
    "没呢", "还没", "还没有", "并没有", "都没有", "都不是", "不属于", "不算", "非", "未", "没有的", "不是的",
    "暂时没有", "目前没有", "也没有", "不会", "没办", "还没办", "不用的",
}  # fmt: skip
YES_PREFIX = ("是的", "是", "对", "嗯", "有", "要", "需要", "已经", "已", "属于", "没错", "当然", "肯定")
NO_PREFIX = (
    "不是", "没有", "还没", "没", "不用", "不要", "不需要", "不属于", "否", "无", "未", "不", "并没", "都没",
)  # fmt: skip
ORDINAL = re.compile(
    r"^(?:选|就|是|我选|选择|我是|属于)?(?:第\s*([一二三四五六七八九1-9])|([一二三四五六七八九1-9])\s*(?:号|个|种|项|类|条))"
    r"(?:个|种|项|类|条|吧|选项|情况|情形)*$|^最后(?:一个|一种|一项|那个)$|^(?:选项|选)\s*([A-Fa-f1-9一二三四五六])$"
)
CN_NUM = {c: i for i, c in enumerate("一二三四五六七八九", start=1)}
# characters that carry no meaning when comparing a reply with an option label
FILLER_CHARS = set("的了是我在吗呢吧啊呀就也都还要有个这那一和或及与为被把给对于人里上下中他她它")


@dataclass(frozen=True)
class Concept:
    """An answer concept: when the question mentions ``topic``, ``yes``/``no`` words answer it."""

    name: str
    topic: tuple[str, ...]
    yes: tuple[str, ...]
    no: tuple[str, ...]


@lru_cache
def _cues(path: Path = CUES_FILE) -> dict[str, Any]:
    return yaml.safe_load(path.read_text(encoding="utf-8")) or {}


def concepts() -> tuple[Concept, ...]:
    return tuple(
        Concept(name, tuple(c.get("topic", [])), tuple(c.get("yes_words", [])), tuple(c.get("no_words", [])))
        for name, c in _cues().items()
        if isinstance(c, dict)
    )


@lru_cache
def _equivalents() -> tuple[tuple[str, str], ...]:
    """(variant, canonical) pairs, longest variant first."""
    groups = _cues().get("equivalents") or []
    pairs = [(str(w), str(g[0])) for g in groups if isinstance(g, list) for w in g[1:]]
    return tuple(sorted(pairs, key=lambda p: -len(p[0])))


def canonical(text: str) -> str:
    """Rewrite variants to their group's first word (one pass, longest variant first)."""
    out, i = [], 0
    pairs = _equivalents()
    while i < len(text):
        for variant, canon in pairs:
            if text.startswith(variant, i):
                out.append(canon)
                i += len(variant)
                break
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def bare(text: str) -> str:
    """NFKC (full-width → half-width), lower case, no punctuation or spaces."""
    return PUNCT.sub("", unicodedata.normalize("NFKC", text).lower())


def normalise(text: str) -> str:
    """NFKC (full-width → half-width), lower case, no punctuation, no fillers around the answer."""
    text = bare(text)
    previous = None
    while previous != text:
        previous = text
        text = LEADING.sub("", text) or text
        if len(text) > 1:
            text = TRAILING.sub("", text) or text
    return text


def is_question(text: str) -> bool:
    return bool(QUESTION.search(unicodedata.normalize("NFKC", text)))


def _is_yes_no(situation: Situation) -> bool:
    return {o.value for o in situation.options} == {"yes", "no"}


def _ordinal(text: str, situation: Situation) -> str | None:
    m = ORDINAL.match(text)
    if not m:
        return None
    if text.startswith("最后"):
        return situation.options[-1].value
    raw = next(g for g in m.groups() if g)
    if raw.isdigit():
        n = int(raw)
    elif raw in CN_NUM:
        n = CN_NUM[raw]
    else:
        n = "abcdef".index(raw.lower()) + 1
    return situation.options[n - 1].value if 1 <= n <= len(situation.options) else None


def _label_core(label: str) -> str:
    """An option label without its parenthesised note: 难产（含剖宫产） → 难产."""
    return normalise(re.sub(r"[（(][^）)]*[）)]", "", label))


def _exact_label(text: str, situation: Situation) -> str | None:
    hits = []
    for o in situation.options:
        full, core = normalise(o.label), _label_core(o.label)
        if text in (full, core, o.value.lower()):
            return o.value
        if len(core) >= 2 and core in text:
            hits.append(o.value)
    if len(hits) == 1:
        return hits[0]
    # a clear part of one label only ("随母亲" → 随母亲, "求职" → 求职登记)
    if len(text) >= 2:
        parts = [o.value for o in situation.options if text in normalise(o.label)]
        if len(parts) == 1:
            return parts[0]
    return None


def _yes_no_exact(text: str) -> str | None:
    if text in YES_EXACT:
        return "yes"
    if text in NO_EXACT:
        return "no"
    return None


def _yes_no_prefix(text: str) -> str | None:
    """不是我自己去办 → no; 是的需要 → yes (the longest yes/no word that leads the reply)."""
    words = [(w, "no") for w in NO_PREFIX] + [(w, "yes") for w in YES_PREFIX] + [("没错", "yes")]
    leading = [(len(w), v) for w, v in words if text.startswith(w)]
    return max(leading)[1] if leading else None


NEGATIONS = ("不", "没", "无", "未", "非", "别")


def _negated(text: str, at: int, length: int = 0) -> bool:
    """A negation in the three characters before a word (没有委托) or right after it (单位没报)."""
    before = text[max(0, at - 3) : at]
    after = text[at + length : at + length + 2] if length else ""
    return any(n in before or n in after for n in NEGATIONS)


def _concept(text: str, situation: Situation) -> str | None:
    """Answers that name the situation in other words (我自己去 → not delegated)."""
    votes: set[str] = set()
    for c in concepts():
        if not any(t in situation.question for t in c.topic):
            continue
        for value, words in (("yes", c.yes), ("no", c.no)):
            for w in words:
                at = text.find(w)
                if at >= 0:
                    flipped = _negated(text, at, len(w)) and not any(n in w for n in "不没无未非")
                    votes.add(("no" if value == "yes" else "yes") if flipped else value)
    return votes.pop() if len(votes) == 1 else None


QUESTION_WORDS = frozenset(
    ["是否", "是不是", "有没有", "需要", "已经", "是", "否", "吗", "为", "的", "或", "和", "及", "以外"]
)


@lru_cache(maxsize=1024)
def _key_terms(question: str) -> tuple[str, ...]:
    """The question's content words of two or more characters (jieba), 是否 and the like left out."""
    plain = re.sub(r"[（）()？?，,、]", " ", question)  # the note in brackets counts too
    # the words and their parts (住房公积金 → 公积金): a reply names the short form as often
    words = dict.fromkeys([*jieba.lcut(plain), *jieba.lcut_for_search(plain)])
    terms = [w for w in words if len(w) >= 2 and w.strip() and w not in QUESTION_WORDS]
    # a place named with its level (岳阳市, 湖南省) is also named without it
    terms += [w[:-1] for w in terms if len(w) >= 3 and w[-1] in "市省县区"]
    return tuple(terms)


def _restated(text: str, situation: Situation) -> str | None:
    """A reply that repeats a content word of the question: with a negation → no, without → yes.

    A word that carries its own negation (未满16) is read as the question's wording, so it says yes.
    For "是否在X以外" the place itself answers no (在岳阳 → 不在岳阳以外) unless the reply says 外.
    """
    outside = "以外" in situation.question and "外" not in text
    for term in sorted(_key_terms(situation.question), key=len, reverse=True):
        at = text.find(term)
        if at >= 0:
            own = any(n in term for n in NEGATIONS)
            said = "no" if not own and _negated(text, at, len(term)) else "yes"
            if outside:
                said = "yes" if said == "no" else "no"
            return said
    return None


AGE = re.compile(r"(\d{1,3})(?:多)?(?:周岁|岁|了)")
LIMIT = re.compile(r"未满(\d{1,3})")


def _age(text: str, situation: Situation) -> str | None:
    """申领人是否未满16周岁？ answered with an age: 孩子8岁 → yes, 已经20岁了 → no."""
    limit, age = LIMIT.search(situation.question), AGE.search(text)
    if not (limit and age) or text.startswith("未满"):
        return None
    return "yes" if int(age.group(1)) < int(limit.group(1)) else "no"


PLACE_CITIES = re.compile(
    r"长沙|株洲|湘潭|衡阳|邵阳|岳阳|常德|张家界|益阳|郴州|永州|怀化|娄底|湘西|湖南|本省|省内"
)


def _place(text: str, situation: Situation) -> str | None:
    """是否在X以外: a place named in the reply other than X → yes, X itself → no (jieba place names)."""
    m = re.search(r"在(\w{2,4}?)(?:省|市)?以外", situation.question)
    if not m:
        return None
    home = m.group(1)
    places = [w for w, flag in pseg.lcut(text) if flag == "ns"]
    if not places:
        return None
    if home == "湖南":  # a city of the province is inside it
        return "no" if all(PLACE_CITIES.search(p) for p in places) else "yes"
    return "no" if all(home in p or p in home for p in places) else "yes"


def _overlap(text: str, situation: Situation) -> str | None:
    """The option whose label shares the most distinctive characters with the reply."""
    chars = [c for c in dict.fromkeys(text) if c not in FILLER_CHARS]
    if not chars:
        return None
    labels = {o.value: canonical(normalise(o.label)) for o in situation.options}
    cores = {o.value: canonical(_label_core(o.label)) for o in situation.options}
    scores = {}
    for value, label in labels.items():
        score = 0.0
        for c in chars:
            if c in label:  # a character of the note in brackets counts half
                share = sum(1 for other in labels.values() if c in other)
                score += (1.0 if c in cores[value] else 0.5) / share
        for i in range(len(text) - 1):  # shared two-character words count extra
            if text[i : i + 2] in label:
                score += 0.5
        scores[value] = score
    ranked = sorted(scores.items(), key=lambda kv: -kv[1])
    best, second = ranked[0], ranked[1] if len(ranked) > 1 else ("", 0.0)
    label = labels[best[0]]
    shared = [c for c in chars if c in label]
    bigram = any(text[i : i + 2] in label for i in range(len(text) - 1))
    if not (bigram or len(shared) >= 2 or len(text) <= 2):
        return None  # one character in common is chance (转人工 / 职工养老保险)
    if best[1] >= 1.0 and best[1] >= second[1] + 0.5:
        return best[0]
    if best[1] >= 1.0 and best[1] == second[1]:
        # a tie between a plain option and a qualified one (拉货的: 普通货物运输 / 危险货物运输): the
        # citizen who says no more means the ordinary case, as a person at the window would take it
        tied = [v for v, sc in ranked if sc == best[1]]
        plain = [v for v in tied if any(m in labels[v] for m in PLAIN_MARKERS)]
        if len(plain) == 1:
            return plain[0]
    return None


PLAIN_MARKERS = ("普通", "一般")


CANCEL = re.compile(
    r"(?:那|那就|好吧|哦|嗯|我)*(?:算了|不办了|取消|不用了|先这样|不问了|不想办了|不弄了|不想问了|以后再说|下次再说|"
    r"改天再说|没事了|不要了|不需要了|结束|退出|不答了|不想回答了?|再考虑考虑|不想弄了|再想想|回头再说)+(?:吧|啦|了|谢谢|谢了|哈|啊)*"
)
BY_THE_WAY = re.compile(r"^(?:哦|噢|喔|啊|诶|欸)?[，, ]*(?:对了|还有)[啊呀吧]?[，,。.!！ ]*")
NOT_AN_ANSWER = re.compile(r"人工|客服|投诉|举报|服务太差|态度|机器人|你好|您好|谢谢|天气")


def is_cancel(text: str) -> bool:
    """算了 / 不办了 / 先这样吧 …, alone or followed by a reason that asks nothing (先这样吧 我回去问问家里人)."""
    if CANCEL.fullmatch(bare(text)):
        return True
    clauses = [c for c in PUNCT.split(unicodedata.normalize("NFKC", text)) if c]
    return (
        len(clauses) > 1
        and bool(CANCEL.fullmatch(bare(clauses[0])))
        and not any(is_question(c) for c in clauses[1:])
    )


def match_option(situation: Situation, text: str, strong: bool = False) -> str | None:
    """The option value a typed reply chooses, ``UNSURE``, or None when it answers nothing."""
    text = BY_THE_WAY.sub("", text.strip())  # 对了，… opens a new thought; it is not 对 (yes)
    t = normalise(text)
    if not t or is_cancel(text) or NOT_AN_ANSWER.search(t):
        return None
    for o in situation.options:  # the option's own label, word for word
        if t in (normalise(o.label), o.value.lower()):
            return o.value
    if any(w in t for w in UNSURE_WORDS):
        return UNSURE
    found = _ordinal(t, situation) or _exact_label(t, situation)
    if found:
        return found
    yes_no = _is_yes_no(situation)
    said = _yes_no_exact(t)
    if said and not yes_no and (found := _binary(situation, said)):
        return found  # 户籍是否在岳阳市？ 是的 → the first of its two options
    if yes_no and said:
        return said
    question = is_question(text)
    clauses = [normalise(c) for c in PUNCT.split(unicodedata.normalize("NFKC", text)) if c.strip()]
    first = _yes_no_exact(clauses[0]) if len(clauses) > 1 else None
    if first and yes_no:
        return first  # 不是，我自己去办
    if first and (found := _binary(situation, first)):
        return found  # 户籍是否在岳阳市？ 不是 我是湖北的
    b = bare(text)
    if yes_no and not question and len(t) <= 12 and (found := _concept(b, situation)):
        return found
    if strong or question:
        return None
    if yes_no:
        return (
            _age(b, situation)
            or _place(b, situation)
            or _concept(b, situation)
            or _restated(b, situation)
            or _yes_no_prefix(t)
        )
    return _concept_option(t, situation) or _overlap(normalise(canonical(b)), situation)


def _binary(situation: Situation, said: str) -> str | None:
    """A 是否 question with two named options: yes is the first, no the second."""
    if len(situation.options) == 2 and "是否" in situation.question:
        return situation.options[0 if said == "yes" else 1].value
    return None


def _concept_option(text: str, situation: Situation) -> str | None:
    """A multi-option reply in other words: a concept word that appears in exactly one label."""
    hits = set()
    for c in concepts():
        for words in (c.yes, c.no):
            if any(w in text for w in words):
                for o in situation.options:
                    if any(w in o.label for w in words):
                        hits.add(o.value)
    return hits.pop() if len(hits) == 1 else None


def option_label(situation: Situation, value: str) -> str:
    if value == UNSURE:
        return "不确定"
    return next((o.label for o in situation.options if o.value == value), value)
