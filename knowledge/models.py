"""The service-guide schema: one typed, validated model per part of a 办事攻略.

Every answer the assistant gives is built from an :class:`Entry`. The schema is documented for
editors in ``docs/knowledge-schema.md``; keep the two in step.

Every field has its Chinese name as ``Field(title=…)``: the one source of the names the editor's form,
the diff, the card's part titles (``knowledge.render.PART_TITLES``) and ``GET /api/schema/labels`` show.
"""

from __future__ import annotations

import datetime as dt
import re
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


class Kind(StrEnum):
    bundle = "bundle"  # 一件事 (several matters handled as one)
    matter = "matter"  # single matter (单个事项)
    faq = "faq"  # general question (e.g. hotline, opening hours)


KIND_TITLES: dict[str, str] = {
    Kind.bundle.value: "一件事",
    Kind.matter.value: "单个事项",
    Kind.faq.value: "常见问题",
}


class Audience(StrEnum):
    person = "个人"
    legal = "法人"


class Status(StrEnum):
    draft = "draft"
    review = "review"
    published = "published"
    unpublished = "unpublished"


class MaterialForm(StrEnum):
    original = "原件"
    copy = "复印件"
    original_and_copy = "原件及复印件"
    electronic = "电子证照"
    form = "申请表"


CHANNEL_TITLES: dict[str, str] = {"offline": "窗口办理", "online": "网上办理", "either": "网上或窗口"}


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


def field_titles(model: type[BaseModel]) -> dict[str, str]:
    """A model's fields → their Chinese names (``Field(title=…)``), in the model's order."""
    out: dict[str, str] = {}
    for name, info in model.model_fields.items():
        if not info.title:
            raise TypeError(f"{model.__name__}.{name} has no title")
        out[name] = info.title
    return out


class BundledMatter(_Model):
    """One matter (联办事项) inside a 一件事 bundle, with the department responsible for it."""

    name: str = Field(min_length=1, title="事项名称")
    department: str = Field(min_length=1, title="负责部门")


class Option(_Model):
    value: str = Field(min_length=1, title="值")
    label: str = Field(min_length=1, title="显示文字")


def _yes_no() -> list[Option]:
    return [Option(value="yes", label="是"), Option(value="no", label="否")]


class Situation(_Model):
    """A situation question (情形) whose answer decides which conditional materials apply."""

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$", title="编号")
    question: str = Field(min_length=2, title="问题")
    options: list[Option] = Field(default_factory=_yes_no, min_length=2, title="选项")


class Material(_Model):
    """One material (申请材料).

    ``condition`` is a machine-checkable rule on the situation answers: a mapping from situation id
    to the value (or list of values) for which the material applies. All keys must hold (AND).
    An empty condition means the material always applies.
    """

    name: str = Field(min_length=1, title="材料名称")
    form: MaterialForm = Field(MaterialForm.original, title="形式")
    copies: int = Field(default=1, ge=0, le=20, title="份数")
    required: bool = Field(True, title="必需")
    condition: dict[str, str | list[str]] = Field(default_factory=dict, title="适用条件")
    condition_text: str = Field("", title="条件说明")
    # 免提交: obtained through data sharing (电子证照 / 部门共享)
    waivable: bool = Field(False, title="可免提交")
    matters: list[str] = Field(default_factory=list, title="所属事项")  # which bundled matters need it
    notes: str = Field("", title="备注")

    @model_validator(mode="after")
    def _conditional_has_text(self) -> Material:
        if self.condition and not self.condition_text:
            raise ValueError("a conditional material needs condition_text (the condition in words)")
        return self


class Step(_Model):
    title: str = Field(min_length=1, title="步骤")
    channel: str = Field(default="offline", pattern=r"^(online|offline|either)$", title="渠道")
    description: str = Field("", title="说明")


class TimeLimit(_Model):
    promised_days: float | None = Field(default=None, ge=0, title="承诺时限")  # working days
    legal_days: float | None = Field(default=None, ge=0, title="法定时限")  # working days
    note: str = Field("", title="时限说明")


class Location(_Model):
    window: str = Field("", title="办理窗口")
    address: str = Field("", title="地址")
    hours: str = Field("", title="办公时间")
    map_url: str = Field("", title="地图链接")


class OnlineEntry(_Model):
    name: str = Field("湘易办", title="网上办理平台")
    url: str = Field("", title="网上办理网址")
    note: str = Field("", title="网上办理说明")


class SiteOverride(_Model):
    """What differs at one 分站点 (a site id of the bureau profile): its own window and contacts."""

    window: str = Field("", title="办理窗口")
    address: str = Field("", title="地址")
    hours: str = Field("", title="办公时间")
    phone: str = Field("", title="咨询电话")
    map_url: str = Field("", title="地图链接")


class Claim(_Model):
    """A fact the bureau's own document states (e.g. 2个工作日以内), shown with the document's name.

    ``document`` is a key of the bureau profile's ``documents`` (knowledge/bureau.yml)."""

    text: str = Field(min_length=2, title="内容")
    document: str = Field(default="plan", pattern=r"^[a-z][a-z0-9_-]*$", title="文件")


PROVINCE_FIRST = "全省首推"  # tag: an 一件事 Hunan first offered in Yueyang (the bureau's plan)


class Entry(_Model):
    """One service guide (办事攻略): a bundle, a single matter or a FAQ."""

    id: str = Field(title="编号")
    title: str = Field(min_length=2, max_length=80, title="标题")
    kind: Kind = Field(title="类型")
    category: str = Field(min_length=1, title="主题分类")
    audience: list[Audience] = Field(min_length=1, title="服务对象")
    aliases: list[str] = Field(default_factory=list, title="别名")
    similar_questions: list[str] = Field(default_factory=list, title="相似问法")
    summary: str = Field(min_length=4, title="概述")
    bundled_matters: list[BundledMatter] = Field(default_factory=list, title="联办事项")
    conditions: list[str] = Field(default_factory=list, title="申请条件")
    situations: list[Situation] = Field(default_factory=list, title="情形问题")
    materials: list[Material] = Field(default_factory=list, title="申请材料")
    steps: list[Step] = Field(default_factory=list, title="办理流程")
    time_limit: TimeLimit = Field(default_factory=TimeLimit, title="办理时限")
    fees: str = Field("", title="收费标准")
    location: Location = Field(default_factory=Location, title="办理地点")
    phone: str = Field("", title="咨询电话")
    online: OnlineEntry = Field(default_factory=OnlineEntry, title="网上办理")
    legal_basis: list[str] = Field(default_factory=list, title="设定依据")
    related: list[str] = Field(default_factory=list, title="相关条目")
    source: str = Field(min_length=2, title="来源")
    # the official publication the contacts/fees come from, if any
    official_source: str = Field("", title="官方来源")
    sample: bool = Field(True, title="示例数据")
    # set when a reviewer approves it in the editor
    reviewed_at: dt.date | None = Field(None, title="审核日期")
    tags: list[str] = Field(default_factory=list, title="标签")  # e.g. 全省首推
    pilot: bool = Field(False, title="试点")  # 试点（测试中）: offered for testing, no promise yet
    # responsible departments (single matters)
    departments: list[str] = Field(default_factory=list, title="负责部门")
    claims: list[Claim] = Field(default_factory=list, title="方案原文")  # the bureau document's own claims
    # only at these 分站点 (empty: everywhere)
    sites: list[str] = Field(default_factory=list, title="适用分站点")
    site_overrides: dict[str, SiteOverride] = Field(default_factory=dict, title="分站点信息")
    status: Status = Field(Status.published, title="状态")
    version: int = Field(default=1, ge=1, title="版本")

    @field_validator("id")
    @classmethod
    def _slug(cls, value: str) -> str:
        if not SLUG.match(value):
            raise ValueError("must be a lowercase slug such as 'newborn-birth'")
        return value

    @model_validator(mode="after")
    def _conditions_refer_to_situations(self) -> Entry:
        known = {s.id: {o.value for o in s.options} for s in self.situations}
        if len(known) != len(self.situations):
            raise ValueError("situations: ids must be unique")
        for i, material in enumerate(self.materials):
            for key, wanted in material.condition.items():
                if key not in known:
                    raise ValueError(
                        f"materials[{i}] ({material.name}): condition names unknown situation '{key}'"
                    )
                values = [wanted] if isinstance(wanted, str) else wanted
                bad = [v for v in values if v not in known[key]]
                if bad:
                    raise ValueError(
                        f"materials[{i}] ({material.name}): condition value {bad} is not an option "
                        f"of situation '{key}'"
                    )
        if self.pilot and self.time_limit.promised_days is not None:
            raise ValueError("time_limit: a pilot (试点) has no promised time limit yet")
        if self.kind is Kind.bundle and len(self.bundled_matters) < 2:
            raise ValueError("bundled_matters: a bundle (一件事) needs at least two matters")
        return self

    def search_texts(self) -> list[str]:
        """Texts that represent this entry in the search index, title first."""
        texts = [self.title, *self.aliases, *self.similar_questions, self.summary]
        return [t for t in dict.fromkeys(texts) if t]
