"""The service-guide schema: one typed, validated model per part of a 办事攻略.

Every answer the assistant gives is built from an :class:`Entry`. The schema is documented for
editors in ``docs/knowledge-schema.md``; keep the two in step.
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


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class BundledMatter(_Model):
    """One matter (联办事项) inside a 一件事 bundle, with the department responsible for it."""

    name: str = Field(min_length=1)
    department: str = Field(min_length=1)


class Option(_Model):
    value: str = Field(min_length=1)
    label: str = Field(min_length=1)


def _yes_no() -> list[Option]:
    return [Option(value="yes", label="是"), Option(value="no", label="否")]


class Situation(_Model):
    """A situation question (情形) whose answer decides which conditional materials apply."""

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    question: str = Field(min_length=2)
    options: list[Option] = Field(default_factory=_yes_no, min_length=2)


class Material(_Model):
    """One material (申请材料).

    ``condition`` is a machine-checkable rule on the situation answers: a mapping from situation id
    to the value (or list of values) for which the material applies. All keys must hold (AND).
    An empty condition means the material always applies.
    """

    name: str = Field(min_length=1)
    form: MaterialForm = MaterialForm.original
    copies: int = Field(default=1, ge=0, le=20)
    required: bool = True
    condition: dict[str, str | list[str]] = Field(default_factory=dict)
    condition_text: str = ""
    waivable: bool = False  # 免提交: obtained through data sharing (电子证照 / 部门共享)
    matters: list[str] = Field(default_factory=list)  # which bundled matters need it
    notes: str = ""

    @model_validator(mode="after")
    def _conditional_has_text(self) -> Material:
        if self.condition and not self.condition_text:
            raise ValueError("a conditional material needs condition_text (the condition in words)")
        return self


class Step(_Model):
    title: str = Field(min_length=1)
    channel: str = Field(default="offline", pattern=r"^(online|offline|either)$")
    description: str = ""


class TimeLimit(_Model):
    promised_days: float | None = Field(default=None, ge=0)  # 承诺时限, working days
    legal_days: float | None = Field(default=None, ge=0)  # 法定时限, working days
    note: str = ""


class Location(_Model):
    window: str = ""
    address: str = ""
    hours: str = ""
    map_url: str = ""


class OnlineEntry(_Model):
    name: str = "湘易办"
    url: str = ""
    note: str = ""


class SiteOverride(_Model):
    """What differs at one 分站点 (a site id of the bureau profile): its own window and contacts."""

    window: str = ""
    address: str = ""
    hours: str = ""
    phone: str = ""
    map_url: str = ""


class Claim(_Model):
    """A fact the bureau's own document states (e.g. 2个工作日以内), shown with the document's name.

    ``document`` is a key of the bureau profile's ``documents`` (knowledge/bureau.yml)."""

    text: str = Field(min_length=2)
    document: str = Field(default="plan", pattern=r"^[a-z][a-z0-9_-]*$")


PROVINCE_FIRST = "全省首推"  # tag: an 一件事 Hunan first offered in Yueyang (the bureau's plan)


class Entry(_Model):
    """One service guide (办事攻略): a bundle, a single matter or a FAQ."""

    id: str
    title: str = Field(min_length=2, max_length=80)
    kind: Kind
    category: str = Field(min_length=1)
    audience: list[Audience] = Field(min_length=1)
    aliases: list[str] = Field(default_factory=list)
    similar_questions: list[str] = Field(default_factory=list)
    summary: str = Field(min_length=4)
    bundled_matters: list[BundledMatter] = Field(default_factory=list)
    conditions: list[str] = Field(default_factory=list)
    situations: list[Situation] = Field(default_factory=list)
    materials: list[Material] = Field(default_factory=list)
    steps: list[Step] = Field(default_factory=list)
    time_limit: TimeLimit = Field(default_factory=TimeLimit)
    fees: str = ""
    location: Location = Field(default_factory=Location)
    phone: str = ""
    online: OnlineEntry = Field(default_factory=OnlineEntry)
    legal_basis: list[str] = Field(default_factory=list)
    related: list[str] = Field(default_factory=list)
    source: str = Field(min_length=2)
    official_source: str = ""  # the official publication the contacts/fees come from, if any
    sample: bool = True
    reviewed_at: dt.date | None = None  # set when a reviewer approves it in the editor
    tags: list[str] = Field(default_factory=list)  # e.g. 全省首推
    pilot: bool = False  # 试点（测试中）: offered for testing, no promise yet
    departments: list[str] = Field(default_factory=list)  # responsible departments (single matters)
    claims: list[Claim] = Field(default_factory=list)  # the bureau document's own claims
    sites: list[str] = Field(default_factory=list)  # only at these 分站点 (empty: everywhere)
    site_overrides: dict[str, SiteOverride] = Field(default_factory=dict)
    status: Status = Status.published
    version: int = Field(default=1, ge=1)

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
