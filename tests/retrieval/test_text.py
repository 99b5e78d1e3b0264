"""retrieval/text.py: the synonym lexicon and the tokens BM25 and the name checks read."""

from __future__ import annotations

from pathlib import Path

import pytest

from retrieval.text import Lexicon, add_user_words, content_tokens, is_word, lexical_tokens, tokens


def test_the_longest_variant_is_rewritten_first() -> None:
    lex = Lexicon({"公积金": ["住房公积金", "公基金"], "不动产登记": ["房产证", "房本"]})
    assert lex.normalise("住房公积金怎么取") == "公积金怎么取"  # not 住房 + a second rewrite
    assert lex.normalise("房本丢了和公基金提取") == "不动产登记丢了和公积金提取"
    assert lex.terms() == {"公积金", "住房公积金", "公基金", "不动产登记", "房产证", "房本"}


def test_a_lexicon_file_must_be_a_mapping(tmp_path: Path) -> None:
    assert Lexicon.load(tmp_path / "missing.yml").normalise("房本") == "房本"  # no file: no synonyms
    bad = tmp_path / "synonyms.yml"
    bad.write_text("- 房本\n- 房产证\n", encoding="utf-8")
    with pytest.raises(ValueError, match="mapping"):
        Lexicon.load(bad)


def test_tokens_drop_stopwords_and_punctuation_and_lower_case() -> None:
    out = tokens("我的ID卡丢了，怎么办？")
    assert "的" not in out and "我" not in out and "，" not in out and "？" not in out
    assert "id" in out and "丢" in "".join(out)


def test_bm25_tokens_add_marked_bigrams_of_chinese_runs() -> None:
    out = lexical_tokens("补办身份证")
    assert {"§补办", "§办身", "§身份", "§份证"} <= set(out)
    assert set(tokens("补办身份证")) <= set(out)
    assert not any(t.startswith("§") for t in lexical_tokens("ID 2026"))


def test_taught_words_become_one_token() -> None:
    word = "甲乙丙丁事项"
    assert not is_word(word)
    add_user_words([word, "x", "带 空格"])  # too short or with punctuation: ignored
    assert is_word(word) and not is_word("带 空格")
    assert word in content_tokens(f"{word}怎么办理")
