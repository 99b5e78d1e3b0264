"""Which part of a guide a question asks about, by its own words (要多久 → 办理时限).

The answering actions use it for messages whose intent does not say the part; the editor's 试一试 shows
it for a test question.
"""

from __future__ import annotations

import re

# Words that say which part of a guide a question is about, for messages whose intent does not say it
# (long messages, questions typed in the middle of the situation questions).
PART_CUES: list[tuple[str, re.Pattern[str]]] = [
    (
        "materials",
        re.compile(r"带什么|带哪些|材料|资料|准备什么|准备哪些|要准备|哪些东西|什么东西|证件|手续要带"),
    ),
    ("time_limit", re.compile(r"多久|多长时间|几天|多少天|几个工作日|时限|多快|什么时候能|当天能|要等")),
    ("fees", re.compile(r"钱|收费|费用|免费|花费|交费|缴费|付费")),
    ("location", re.compile(r"在哪|去哪|哪里办|哪儿办|哪里|地址|地点|哪个窗口|窗口在|怎么走")),
    ("online", re.compile(r"网上|网办|线上|手机上|手机办|app|APP|湘易办|小程序|不用跑|不去现场")),
    ("phone", re.compile(r"电话|号码|热线|联系方式|打给谁")),
    (
        "conditions",
        re.compile(
            r"条件|要求|资格|符合|够不够|能不能申请|能申请吗|能不能办|可以申请吗|能不能住|能住|能不能享受|能享受|能不能领|能领吗"
        ),
    ),
    ("steps", re.compile(r"流程|步骤|程序|环节|先去哪|怎么走流程")),
    ("legal_basis", re.compile(r"依据|法规|政策文件|哪条规定")),
]


def cue_part(text: str) -> str | None:
    """The guide part a question's own words ask about (要多久 → time_limit), if exactly clear."""
    for part, cue in PART_CUES:
        if cue.search(text):
            return part
    if NEEDS_WHAT.search(text):  # 需要什么 with no other part named: what to bring
        return "materials"
    return None


NEEDS_WHAT = re.compile(r"需要什么|要什么|需要啥|要啥|需要哪些|要哪些|得带|要带")
