"""Chinese text handling for lexical search: synonym lexicon, jieba user dictionary, tokens."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable
from pathlib import Path

import jieba
import yaml

_jieba_lock = threading.Lock()
_added_words: set[str] = set()

STOPWORDS = set(
    [
        "的",
        "了",
        "吗",
        "呢",
        "吧",
        "啊",
        "呀",
        "么",
        "嘛",
        "哦",
        "哈",
        "是",
        "我",
        "你",
        "他",
        "她",
        "它",
        "我们",
        "你们",
        "要",
        "想",
        "请问",
        "请",
        "问",
        "一下",
        "一个",
        "这个",
        "那个",
        "什么",
        "啥",
        "怎么",
        "怎么样",
        "咋",
        "怎样",
        "如何",
        "哪些",
        "哪里",
        "哪儿",
        "哪",
        "能",
        "可以",
        "可不可以",
        "需要",
        "需",
        "得",
        "该",
        "应该",
        "有",
        "没有",
        "和",
        "与",
        "及",
        "或",
        "还",
        "也",
        "都",
        "就",
        "在",
        "对",
        "给",
        "把",
        "被",
        "从",
        "到",
        "去",
        "办",
        "办理",
        "弄",
        "搞",
        "下",
        "上",
        "个",
        "些",
        "多少",
        "多",
        "吗？",
        "呢？",
        "谢谢",
        "您好",
        "你好",
        "麻烦",
        "问问",
        "知道",
        "告诉",
        "现在",
        "已经",
        "如果",
        "因为",
        "所以",
        "然后",
        "但是",
        "不",
        "没",
    ]
)
# Words that say which PART of a guide is wanted (time, fee, place…), not which service.
ASPECT_WORDS = set(
    [
        "多久",
        "多长时间",
        "几天",
        "多少天",
        "时间",
        "时限",
        "要钱",
        "收费",
        "收钱",
        "费用",
        "多少钱",
        "钱",
        "免费",
        "在哪",
        "在哪里",
        "哪里",
        "地址",
        "地点",
        "位置",
        "窗口",
        "几点",
        "上班",
        "下班",
        "电话",
        "号码",
        "热线",
        "网上",
        "线上",
        "手机",
        "网上办",
        "材料",
        "资料",
        "证件",
        "准备",
        "带",
        "条件",
        "资格",
        "谁",
        "申请",
        "流程",
        "步骤",
        "手续",
        "依据",
        "政策",
        "文件",
        "规定",
        "那",
        "那么",
        "这个",
        "那个",
        "它",
        "呢",
        "吗",
        "能",
        "可以",
        "要",
        "需要",
        "多少",
        "还",
        "再",
        "问",
        "办好",
        "办完",
        "拿到",
        "下来",
        "快",
        "慢",
        "周末",
        "节假日",
        "预约",
        "一下",
        "不是",
        "这",
        "的",
        "了",
        "不能",
        "能不能",
        "弄",
        "搞",
    ]
)
FUNCTION_CHARS = set("那这要能办吗呢么可以还再去来的了是否有没个些什啥怎样哪里在几多少就得会用")
_PUNCT = re.compile(r"[\s\W_]+", re.UNICODE)


class Lexicon:
    """Synonyms (variant → canonical term) from ``knowledge/synonyms.yml``; editable by editors."""

    def __init__(self, mapping: dict[str, list[str]] | None = None) -> None:
        self.to_canonical: dict[str, str] = {}
        for canonical, variants in (mapping or {}).items():
            for variant in variants or []:
                self.to_canonical[str(variant)] = str(canonical)
        self._variants = sorted(self.to_canonical, key=len, reverse=True)

    @classmethod
    def load(cls, path: Path) -> Lexicon:
        if not path.exists():
            return cls()
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        if not isinstance(data, dict):
            raise ValueError(f"{path.name}: expected a mapping 'canonical: [variants]'")
        return cls(data)

    def normalise(self, text: str) -> str:
        """Rewrite known variants to their canonical term (longest variant first)."""
        for variant in self._variants:
            if variant in text:
                text = text.replace(variant, self.to_canonical[variant])
        return text

    def terms(self) -> set[str]:
        return set(self.to_canonical.values()) | set(self.to_canonical)


def add_user_words(words: Iterable[str]) -> None:
    """Teach jieba the entries' titles, aliases and synonym terms (idempotent)."""
    with _jieba_lock:
        for word in words:
            word = word.strip()
            if 2 <= len(word) <= 12 and word not in _added_words and not _PUNCT.search(word):
                jieba.add_word(word, freq=20000)
                _added_words.add(word)


def is_word(text: str) -> bool:
    """Whether jieba's dictionary (with the words taught by ``add_user_words``) has ``text`` as a word."""
    jieba.dt.check_initialized()
    return jieba.dt.FREQ.get(text, 0) > 0


def word_spans(text: str) -> list[tuple[int, int]]:
    """Where jieba's dictionary words of two or more characters lie in ``text`` (precise mode)."""
    out, start = [], 0
    for word in jieba.lcut(text, HMM=False):
        if len(word) >= 2:
            out.append((start, start + len(word)))
        start += len(word)
    return out


def tokens(text: str) -> list[str]:
    """Search tokens: jieba's search-mode words minus stopwords and punctuation, lower-cased."""
    out = []
    for tok in jieba.lcut_for_search(text.lower()):
        tok = tok.strip()
        if not tok or _PUNCT.fullmatch(tok) or tok in STOPWORDS:
            continue
        out.append(tok)
    return out


def name_words(text: str) -> list[str]:
    """The words of a name, cut once (jieba's precise mode, no overlapping sub-words), that could name
    a service: no stopwords, aspect words or function characters."""
    out = []
    for tok in jieba.lcut(text.lower()):
        tok = tok.strip()
        if not tok or _PUNCT.fullmatch(tok) or tok in STOPWORDS or tok in ASPECT_WORDS:
            continue
        if not set(tok) <= FUNCTION_CHARS:
            out.append(tok)
    return out


_CJK_RUN = re.compile(r"[\u4e00-\u9fff]{2,}")


def lexical_tokens(text: str) -> list[str]:
    """BM25 tokens: jieba words plus the character bigrams of every Chinese run (marked with §).

    Bigrams match where jieba cuts a query and a document differently (口语 vs 公文 wording)."""
    out = tokens(text)
    for run in _CJK_RUN.findall(text.lower()):
        out += ["§" + run[i : i + 2] for i in range(len(run) - 1)]
    return out


def content_tokens(text: str) -> list[str]:
    """Tokens that could name a service: everything but stopwords and aspect words."""
    return [t for t in tokens(text) if t not in ASPECT_WORDS and not set(t) <= FUNCTION_CHARS]
