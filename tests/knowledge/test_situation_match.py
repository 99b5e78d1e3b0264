"""The typed-answer matcher over every option of every entry (tests/data/situation_paraphrases.yml).

The paraphrases were written by hand as citizens type, apart from the matcher; every option is
checked with its own label and each of its paraphrases, and the no-answers with every question.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from core.settings import ROOT
from knowledge.checklist import UNSURE
from knowledge.io import read_yaml_dir
from knowledge.models import Situation
from knowledge.situation_match import canonical, is_cancel, is_question, match_option, normalise

DATA = yaml.safe_load(
    (Path(__file__).parent.parent / "data" / "situation_paraphrases.yml").read_text("utf-8")
)
SITUATIONS = {(e.id, s.id): s for e in read_yaml_dir(ROOT / "knowledge" / "entries") for s in e.situations}


MIN_PARAPHRASE_ACCURACY = 0.9  # measured 0.93 on the hand-written set; below this the matcher regressed


def _options() -> list[Any]:
    return [
        pytest.param(
            (item["entry"], item["situation"]),
            option,
            id=f"{item['entry']}.{item['situation']}.{option['value']}",
        )
        for item in DATA["situations"]
        for option in item["options"]
    ]


@pytest.mark.parametrize(("key", "option"), _options())
def test_every_option_by_its_label_and_a_paraphrase(key: tuple[str, str], option: dict[str, Any]) -> None:
    situation = SITUATIONS[key]
    assert match_option(situation, option["label"]) == option["value"]
    understood = [t for t in option["paraphrases"] if match_option(situation, t) == option["value"]]
    assert understood, f"no paraphrase of {option['label']} is understood"


def test_paraphrases_are_understood_and_never_taken_for_another_option() -> None:
    right = wrong = total = 0
    for item in DATA["situations"]:
        situation = SITUATIONS[(item["entry"], item["situation"])]
        for option in item["options"]:
            for text in option["paraphrases"]:
                got = match_option(situation, text)
                total += 1
                right += got == option["value"]
                wrong += got is not None and got != option["value"]
    assert right / total >= MIN_PARAPHRASE_ACCURACY, f"{right}/{total}"
    assert wrong / total <= 0.03, f"{wrong} of {total} paraphrases read as another option"


@pytest.mark.parametrize("text", DATA["unsure"])
def test_unsure_words(text: str) -> None:
    for situation in SITUATIONS.values():
        assert match_option(situation, text) == UNSURE


def _no_answers() -> list[str]:
    return [t for texts in DATA["not_answers"].values() for t in texts]


@pytest.mark.parametrize("text", _no_answers())
def test_questions_and_other_topics_answer_nothing(text: str) -> None:
    taken = {f"{k[0]}.{k[1]}": v for k, s in SITUATIONS.items() if (v := match_option(s, text)) is not None}
    assert taken == {}


@pytest.mark.parametrize("text", ["要多久", "有咨询电话吗", "在哪里办", "要钱吗", "网上能办吗"])
def test_strong_mode_never_takes_a_question(text: str) -> None:
    assert is_question(text)
    assert all(match_option(s, text, strong=True) is None for s in SITUATIONS.values())


def test_normalisation_is_width_and_filler_blind() -> None:
    assert normalise("  嗯，是的！ ") == "是"
    assert normalise("ＹＥＳ") == "yes"
    assert canonical("随妈妈") == "随母亲"


def test_ordinals_follow_the_button_order() -> None:
    situation = Situation(id="x", question="您属于哪一类？", options=[
        {"value": "a", "label": "甲类"}, {"value": "b", "label": "乙类"}, {"value": "c", "label": "丙类"},
    ])  # fmt: skip
    assert [match_option(situation, t) for t in ["第一个", "第2种", "选三", "最后一个"]] == [
        "a",
        "b",
        "c",
        "c",
    ]


def test_by_the_way_opens_a_new_thought_not_a_yes() -> None:
    yes_no = Situation(id="x", question="申领人是否未满16周岁？", options=[
        {"value": "yes", "label": "是"}, {"value": "no", "label": "否"},
    ])  # fmt: skip
    assert match_option(yes_no, "对了 我还要办护照 护照要带什么") is None
    assert match_option(yes_no, "对了 我还要办护照 护照要带什么", strong=True) is None
    assert match_option(yes_no, "对了，是的") == "yes"
    assert match_option(yes_no, "对的") == "yes"


def test_a_plain_option_wins_a_tie_with_a_qualified_one() -> None:
    situation = Situation(id="x", question="准备从事哪类运输经营？", options=[
        {"value": "cargo", "label": "普通货物运输"}, {"value": "danger", "label": "危险货物运输"},
        {"value": "people", "label": "旅客运输"},
    ])  # fmt: skip
    assert match_option(situation, "拉货的") == "cargo"
    assert match_option(situation, "拉危险品的") == "danger"


def test_a_count_of_people_hired_is_not_a_question() -> None:
    assert not is_question("我们公司想招几个人")
    assert is_question("要跑几个地方") and is_question("需要几个人去")


def test_cancel_with_a_reason_is_cancel_but_not_with_a_question() -> None:
    assert is_cancel("先这样吧 我回去问问家里人") and is_cancel("算了，我再想想")
    assert not is_cancel("算了，那要多久") and not is_cancel("先这样吧 那在哪里办")
    assert not is_cancel("我想取消营业执照")  # a service, not leaving the questions
