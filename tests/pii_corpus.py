"""The generated corpus for PII masking and its recall/precision figures.

    python -m tests.pii_corpus            # (re)write tests/data/pii_corpus.jsonl (seeded: same file)
    python -m tests.pii_corpus --report   # recall and precision of core.pii.mask_pii on it

Positives are checksum-valid resident IDs (18 digits, GB 11643; old 15-digit), Luhn-valid bank cards,
mobiles, landlines with area codes and e-mail addresses, each in plain, spaced, dashed, +86 and
full-width forms inside sentences citizens write. Negatives are the ordinary numbers of the same
conversations (dates, times, fees, postcodes, the hotline, counts) that must come through unchanged.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import re
from collections import Counter
from pathlib import Path
from typing import Any

from core.pii import mask_pii, normalise

PATH = Path(__file__).parent / "data" / "pii_corpus.jsonl"
SEED = 14
REGIONS = ["430602", "430603", "430611", "430621", "430624", "430681", "430682", "110101", "440305", "310115"]
WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
CHECK = "10X98765432"
TEMPLATES = [
    "我的{kind}是{value}，请帮我查一下",
    "{value}",
    "您好，{kind}：{value}，麻烦回电",
    "补办要带什么？我{kind}{value}",
    "联系人张三 {value} 谢谢",
    "{kind}为 {value}。",
]
NEGATIVES = [
    "请拨打12345政务服务便民热线",
    "2024年3月15日去办的",
    "办理时限20个工作日",
    "收费标准：工本费20元",
    "邮编414000",
    "第3号窗口，9:00-17:00",
    "预约时间2024-03-15 09:30",
    "补贴1.5万元，比例50%",
    "我今年65岁，孩子2个",
    "岳阳楼区五里牌路138号",
    "带2寸照片4张，复印件1份",
    "上次等了180秒",
    "地址在金鹗东路1号市民之家3楼",
    "2019年的证件号码改了吗",
]
FULL = str.maketrans({chr(c): chr(c + 0xFEE0) for c in range(0x21, 0x7F)})


def _id18(rng: random.Random) -> str:
    born = dt.date(1950, 1, 1) + dt.timedelta(days=rng.randrange(60 * 365))
    body = rng.choice(REGIONS) + born.strftime("%Y%m%d") + f"{rng.randrange(1000):03d}"
    return body + CHECK[sum(int(d) * w for d, w in zip(body, WEIGHTS, strict=True)) % 11]


def _id15(rng: random.Random) -> str:
    born = dt.date(1940, 1, 1) + dt.timedelta(days=rng.randrange(50 * 365))
    return rng.choice(REGIONS) + born.strftime("%y%m%d") + f"{rng.randrange(1000):03d}"


def _luhn_card(rng: random.Random) -> str:
    n = rng.choice([16, 19])
    body = rng.choice(["622202", "622848", "621700", "622588", "623058"]) + "".join(
        str(rng.randrange(10)) for _ in range(n - 7)
    )
    total = 0
    for i, ch in enumerate(reversed(body + "0")):
        d = int(ch)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return body + str((10 - total % 10) % 10)


def _mobile(rng: random.Random) -> str:
    return rng.choice(["13", "15", "17", "18", "19"]) + str(rng.randrange(10)) + f"{rng.randrange(10**8):08d}"


def _landline(rng: random.Random) -> tuple[str, str]:
    area = rng.choice(["0730", "0731", "010", "020", "0734"])
    return area, f"{rng.randrange(2, 10)}{rng.randrange(10**6):06d}" + (
        str(rng.randrange(10)) if area in ("010", "020") else ""
    )


def _groups(digits: str, sizes: list[int], sep: str) -> str:
    out, i = [], 0
    for size in sizes:
        out.append(digits[i : i + size])
        i += size
    if i < len(digits):
        out.append(digits[i:])
    return sep.join(p for p in out if p)


def _forms(kind: str, value: str, rng: random.Random) -> list[tuple[str, str]]:
    """(form name, written value) for one personal number."""
    if kind == "id18":
        forms = [
            ("plain", value),
            ("spaced", _groups(value, [6, 8, 4], " ")),
            ("dashed", _groups(value, [6, 8], "-")),
        ]
        if value.endswith("X"):
            forms.append(("lower-x", value[:-1] + "x"))
    elif kind == "id15":
        forms = [("plain", value), ("spaced", _groups(value, [6, 6], " "))]
    elif kind == "mobile":
        forms = [
            ("plain", value),
            ("spaced", _groups(value, [3, 4], " ")),
            ("dashed", _groups(value, [3, 4], "-")),
            ("+86", "+86" + value),
            ("+86 spaced", "+86 " + _groups(value, [3, 4], " ")),
            ("0086", "0086-" + value),
        ]
    elif kind == "card":
        forms = [
            ("plain", value),
            ("spaced", _groups(value, [4, 4, 4, 4], " ")),
            ("dashed", _groups(value, [4, 4, 4, 4], "-")),
        ]
    elif kind == "landline":
        area, number = value.split("-")
        forms = [
            ("dashed", value),
            ("plain", area + number),
            ("parenthesised", f"({area}){number}"),
            ("spaced", f"{area} {number}"),
        ]
    else:  # email
        forms = [("plain", value)]
    forms += [(name + " full-width", written.translate(FULL)) for name, written in forms[:2]]
    return forms


KINDS = {
    "id18": "身份证号",
    "id15": "老身份证号",
    "mobile": "手机号",
    "card": "银行卡号",
    "landline": "电话",
    "email": "邮箱",
}


def generate(per_kind: int = 40) -> list[dict[str, Any]]:
    rng = random.Random(SEED)
    rows: list[dict[str, Any]] = []
    makers = {
        "id18": _id18,
        "id15": _id15,
        "mobile": _mobile,
        "card": _luhn_card,
        "landline": lambda r: "-".join(_landline(r)),
        "email": lambda r: (
            f"{rng.choice(['zhang.san', 'lisi88', 'wang_wu', 'yy-citizen'])}{r.randrange(100)}@"
            + r.choice(["qq.com", "163.com", "126.com", "gmail.com", "yeah.net"])
        ),
    }
    for kind, make in makers.items():
        for _ in range(per_kind):
            value = make(rng)
            for form, written in _forms(kind, value, rng):
                text = rng.choice(TEMPLATES).format(kind=KINDS[kind], value=written)
                rows.append({"kind": kind, "form": form, "text": text, "secret": value.replace("-", "")})
    for text in NEGATIVES:
        rows.append({"kind": "ordinary", "form": "-", "text": text, "secret": ""})
    return rows


def _digits(text: str) -> str:
    return re.sub(r"[^0-9a-z@._]", "", normalise(text).lower())


def leaked(row: dict[str, Any], masked: str) -> bool:
    """The personal number (or address) can still be read from ``masked``."""
    secret = row["secret"].lower()
    if row["kind"] == "mobile":
        secret = secret[-11:]
    return secret in _digits(masked)


def evaluate(rows: list[dict[str, Any]]) -> dict[str, Any]:
    positives = [r for r in rows if r["secret"]]
    negatives = [r for r in rows if not r["secret"]]
    missed = [r for r in positives if leaked(r, mask_pii(r["text"]))]
    changed = [r for r in negatives if mask_pii(r["text"]) != r["text"]]
    by_kind = Counter(r["kind"] for r in positives)
    missed_by_kind = Counter(r["kind"] for r in missed)
    true_pos = len(positives) - len(missed)
    return {
        "positives": len(positives),
        "negatives": len(negatives),
        "recall": true_pos / len(positives),
        "precision": true_pos / (true_pos + len(changed)) if true_pos + len(changed) else 1.0,
        "ordinary_changed": [r["text"] for r in changed],
        "missed": [r["text"] for r in missed],
        "recall_by_kind": {k: (n - missed_by_kind[k]) / n for k, n in sorted(by_kind.items())},
    }


def load() -> list[dict[str, Any]]:
    return [json.loads(line) for line in PATH.read_text(encoding="utf-8").splitlines() if line.strip()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--report", action="store_true")
    args = parser.parse_args()
    if args.report:
        print(json.dumps(evaluate(load()), ensure_ascii=False, indent=2))
        return
    PATH.parent.mkdir(parents=True, exist_ok=True)
    rows = generate()
    PATH.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    print(f"wrote {len(rows)} cases to {PATH}")


if __name__ == "__main__":
    main()
