"""Entry validation for editors: every problem as a field path (``materials.2.condition_text``) and a
Chinese message, so the editor can show it beside the field it is about."""

from __future__ import annotations

import re
from typing import Any

from pydantic import ValidationError

from knowledge.bureau import contact_problems, current_profile
from knowledge.errors import EntryInvalid, FieldProblem
from knowledge.models import Entry

# Entry-level rules name their field at the start of the message: "materials[3] (x): …".
_FIELD_IN_MESSAGE = re.compile(r"^(?P<field>[a-z_]+)(?:\[(?P<index>\d+)\])?")
_VALUE_MESSAGES = (
    (re.compile(r"must be a lowercase slug"), "只能用小写字母、数字和连字符，例如 newborn-birth"),
    (re.compile(r"needs condition_text"), "有适用条件的材料必须填写条件说明"),
    (re.compile(r"condition names unknown situation '(.+)'"), "适用条件引用了不存在的情形「{0}」"),
    (
        re.compile(r"condition value \[(.+)\] is not an option of situation '(.+)'"),
        "{0} 不是情形「{1}」的选项",
    ),
    (re.compile(r"ids must be unique"), "情形编号不能重复"),
    (re.compile(r"a bundle .* needs at least two matters"), "“一件事”至少需要两个联办事项"),
)


def _message(err: dict[str, Any]) -> str:
    kind, ctx = err["type"], err.get("ctx") or {}
    text = str(err["msg"]).removeprefix("Value error, ")
    if kind == "value_error":
        for pattern, template in _VALUE_MESSAGES:
            found = pattern.search(text)
            if found:
                return template.format(*found.groups())
        return text
    simple = {
        "missing": "必填",
        "extra_forbidden": "不认识的字段",
        "string_pattern_mismatch": "格式不正确",
        "int_parsing": "应为整数",
        "int_from_float": "应为整数",
        "float_parsing": "应为数字",
        "bool_parsing": "应为是或否",
        "date_parsing": "日期格式应为 YYYY-MM-DD",
        "date_from_datetime_parsing": "日期格式应为 YYYY-MM-DD",
        "date_type": "日期格式应为 YYYY-MM-DD",
        "string_type": "应为文字",
        "list_type": "应为列表",
        "dict_type": "格式不正确",
        "model_type": "格式不正确",
    }
    if kind in simple:
        return simple[kind]
    if kind == "string_too_short":
        return "不能为空" if ctx.get("min_length") == 1 else f"至少 {ctx.get('min_length')} 个字"
    if kind == "string_too_long":
        return f"最多 {ctx.get('max_length')} 个字"
    if kind == "too_short":
        return f"至少填写 {ctx.get('min_length')} 项"
    if kind in ("greater_than_equal", "greater_than"):
        return f"不能小于 {ctx.get('ge', ctx.get('gt'))}"
    if kind in ("less_than_equal", "less_than"):
        return f"不能大于 {ctx.get('le', ctx.get('lt'))}"
    if kind in ("enum", "literal_error"):
        return f"只能是 {ctx.get('expected', '规定的值')}"
    return text


def _field(err: dict[str, Any]) -> str:
    loc = [str(p) for p in err.get("loc", ())]
    text = str(err["msg"]).removeprefix("Value error, ")
    if "needs condition_text" in text:
        loc.append("condition_text")
    elif not loc:
        found = _FIELD_IN_MESSAGE.match(text)
        if found and found.group("field") in Entry.model_fields:
            loc = [found.group("field")]
            if found.group("index") is not None:
                loc.append(found.group("index"))
                if "condition" in text:
                    loc.append("condition")
    return ".".join(loc) or "(entry)"


# A space between two Chinese characters (or Chinese punctuation) is a stray one, mostly left by a
# YAML line fold (可申报 人才公寓, 抚恤金 申领). Citations keep the spacing of the document they cite
# (《财政部 税务总局 住房城乡建设部关于…》, 《民法典》第六编 继承).
_CJK = r"[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uff00-\uffef“”‘’…—·]"
_STRAY_SPACE = re.compile(rf"(?<={_CJK})[ \u3000\t]+(?={_CJK})|(?<={_CJK})\n\s*(?={_CJK})")
CITATION_FIELDS = frozenset({"legal_basis", "source", "official_source"})


def without_stray_spaces(text: str) -> str:
    """``text`` with the spaces and line breaks between Chinese characters taken out (imported text)."""
    return _STRAY_SPACE.sub("", text)


def _texts(value: Any, path: str) -> Any:
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from _texts(v, f"{path}.{k}" if path else str(k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _texts(v, f"{path}.{i}")


def spacing_problems(entry: Entry) -> list[FieldProblem]:
    """Stray spaces inside Chinese text: every text field except citations (see CITATION_FIELDS)."""
    data = entry.model_dump(mode="json", exclude=set(CITATION_FIELDS))
    out = []
    for path, text in _texts(data, ""):
        found = _STRAY_SPACE.search(text)
        if found:
            near = text[max(0, found.start() - 6) : found.end() + 6].replace("\n", "⏎")
            out.append(FieldProblem(path, f"中文之间有多余的空格或换行：“{near}”"))
    return out


def problems_of(exc: ValidationError) -> list[FieldProblem]:
    return [FieldProblem(_field(err), _message(err)) for err in exc.errors()]  # type: ignore[arg-type]


def check_entry(raw: Any, known_ids: set[str] | frozenset[str] = frozenset()) -> Entry:
    """Validate ``raw`` as an entry; ``related`` must name one of ``known_ids`` (other than itself);
    a sample entry states no contacts or fees the bureau profile does not hold; Chinese text has no
    stray spaces (:func:`spacing_problems`).

    Raises :class:`EntryInvalid` with every problem found.
    """
    if not isinstance(raw, dict):
        raise EntryInvalid([FieldProblem("(entry)", "应为一个条目（字段的映射）")])
    try:
        entry = Entry.model_validate(raw)
    except ValidationError as exc:
        raise EntryInvalid(problems_of(exc)) from None
    bad = [
        FieldProblem(f"related.{i}", f"没有条目「{rel}」" if rel != entry.id else "不能关联自己")
        for i, rel in enumerate(entry.related)
        if rel not in known_ids or rel == entry.id
    ]
    bad += contact_problems(entry, current_profile())
    bad += spacing_problems(entry)
    if bad:
        raise EntryInvalid(bad)
    return entry
