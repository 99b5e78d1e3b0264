"""Pinyin typo correction: which spans become which known term, and which must stay as typed."""

from __future__ import annotations

import pytest

from retrieval.pinyin import PinyinTermIndex

TERMS = [
    "公积金",
    "身份证",
    "户口簿",
    "社保卡",
    "公租房",
    "保障性住房",
    "人才公寓",
    "接水接电",
    "户口",
    "去世",
]


@pytest.fixture(scope="module")
def index() -> PinyinTermIndex:
    return PinyinTermIndex().with_changes(TERMS)


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("公基金怎么提取", "公积金怎么提取"),
        ("身份正丢了怎么办", "身份证丢了怎么办"),
        ("户口部放哪了", "户口簿放哪了"),
        ("社宝卡消磁了", "社保卡消磁了"),
        ("我是公祖房住户", "我是公租房住户"),
        ("提供保障型住房吗", "提供保障性住房吗"),  # 型 and 性 both read xing
        ("人材公寓租金多少", "人才公寓租金多少"),
        ("公基金和身份正", "公积金和身份证"),  # every typo of a message
        ("Hi，公基金！", "Hi，公积金！"),  # Chinese runs between other text
    ],
)
def test_homophone_typos_become_the_known_term(index: PinyinTermIndex, typed: str, meant: str) -> None:
    assert index.correct(typed) == meant


@pytest.mark.parametrize(
    "text",
    [
        "公积金怎么提取",  # already right
        "户口不在岳阳能读书吗",  # 户口不 sounds like 户口簿, but 不 is a function character
        "他去时没带身份证",  # 去时 / 去世: two-character homophones are left alone
        "身分证丢了",  # a dictionary word of its own (the synonym lexicon maps it, not the sound)
        "推进节水节电",  # two of four characters differ from 接水接电: no slip inside one word
        "明天岳阳会下雨吗",
        "",
    ],
)
def test_correct_text_is_left_as_typed(index: PinyinTermIndex, text: str) -> None:
    assert index.correct(text) == text


def test_a_span_may_not_cut_through_a_word_of_the_query() -> None:
    # 正在 is a word: 身份正在办 is read as 身份 + 正在办, not as a typo of 身份证
    index = PinyinTermIndex().with_changes(["身份证"])
    assert index.correct("身份正在办") == "身份正在办"
    assert index.correct("身份正丢了") == "身份证丢了"


def test_terms_are_counted_and_removed_without_touching_the_old_index() -> None:
    one = PinyinTermIndex().with_changes(["公积金"])
    two = one.with_changes(["公积金"])  # a second entry names it too
    after_one_removal = two.with_changes(removed=["公积金"])
    gone = after_one_removal.with_changes(removed=["公积金"])
    assert after_one_removal.correct("公基金") == "公积金"
    assert gone.correct("公基金") == "公基金" and "公积金" not in gone
    assert one.correct("公基金") == "公积金" and len(one) == 1  # never changed in place


def test_only_chinese_terms_of_indexable_length_are_kept() -> None:
    index = PinyinTermIndex().with_changes(["app", "证", "营业执照", "一二三四五六七八九"])
    assert "营业执照" in index and len(index) == 1
