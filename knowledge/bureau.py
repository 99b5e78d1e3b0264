"""The bureau profile (``knowledge/bureau.yml``): the one place for the bureau's name, hotline,
online entry, documents and 分站点 (sites), and the rules that keep entries from repeating — or
inventing — contacts.

Entries do not carry addresses, opening hours or phone numbers; the 一次性告知 takes them from the
profile for the citizen's site (the city hall when none is given). A contact the bureau has not filled
in is shown as ``请拨打12345咨询``.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field

from knowledge.errors import FieldProblem
from knowledge.models import Entry, OnlineEntry

CITY = "city"
SAMPLE_STATUS = "示例数据，待核实"
UNREVIEWED_STATUS = "未经审核"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Site(_Model):
    """The city hall or one county/city/district/zone 分站点; contacts empty until the bureau fills them."""

    id: str = Field(pattern=r"^[a-z][a-z0-9-]*$")
    name: str = Field(min_length=2)
    kind: str = ""
    address: str = ""
    hours: str = ""
    phone: str = ""
    map_url: str = ""


class Document(_Model):
    title: str = Field(min_length=4)
    short: str = ""


class BureauProfile(_Model):
    name: str = Field(min_length=4)
    service_name: str = "办事e点通"
    hotline: str = Field(min_length=3)
    hotline_name: str = ""
    website: str = ""
    online: OnlineEntry = Field(default_factory=OnlineEntry)
    documents: dict[str, Document] = Field(default_factory=dict)
    sites: list[Site] = Field(min_length=1)
    enterprise_stages: dict[str, list[str]] = Field(default_factory=dict)

    @property
    def hall(self) -> Site:
        """The city hall (site ``city``, or the first site)."""
        return next((s for s in self.sites if s.id == CITY), self.sites[0])

    def site(self, site_id: str | None) -> Site:
        """The named site; the city hall when ``site_id`` is empty or unknown (the fallback)."""
        return next((s for s in self.sites if s.id == site_id), self.hall) if site_id else self.hall

    def has_site(self, site_id: str) -> bool:
        return any(s.id == site_id for s in self.sites)

    def ask_hotline(self) -> str:
        return f"请拨打{self.hotline}咨询"

    def document_title(self, key: str) -> str:
        doc = self.documents.get(key)
        return doc.title if doc else key

    def known_numbers(self) -> set[str]:
        """Phone numbers the bureau published in the profile (digits only)."""
        return {_digits(n) for n in [self.hotline, *(s.phone for s in self.sites)] if _digits(n)}


def load_profile(path: Path) -> BureauProfile:
    return BureauProfile.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))


@lru_cache(maxsize=4)
def _cached(path: str, mtime: float) -> BureauProfile:
    return load_profile(Path(path))


def current_profile() -> BureauProfile:
    """The profile named by the ``BUREAU_FILE`` setting (re-read when the file changes)."""
    from core.settings import get_settings

    path = get_settings().bureau_file
    return _cached(str(path), path.stat().st_mtime)


# -- where an entry applies ---------------------------------------------------------------------
def available_at(entry: Entry, site_id: str | None) -> bool:
    """An entry limited to some sites (a county's 特色一件事) exists only there; others everywhere.

    With no site (the city-wide view) every entry is listed."""
    return not entry.sites or not site_id or site_id in entry.sites


# -- review status ------------------------------------------------------------------------------
def review_status(entry: Entry) -> str:
    """What citizens and agents are told about the entry's review: a date only when a reviewer
    approved it (and it is no longer sample data)."""
    if entry.sample:
        return SAMPLE_STATUS
    if entry.reviewed_at is None:
        return UNREVIEWED_STATUS
    return f"审核日期：{entry.reviewed_at.isoformat()}"


def shown_review_date(entry: Entry) -> str:
    """The review date to show, or "" (sample entries and entries never approved show none)."""
    return entry.reviewed_at.isoformat() if entry.reviewed_at and not entry.sample else ""


# -- the contact rule ---------------------------------------------------------------------------
_PHONE = re.compile(r"(?<!\d)(?:0\d{2,3}-?\d{5,8}|1[3-9]\d{9}|(?:12|95|96)\d{3,4})(?!\d)")
_ADDRESS = re.compile(
    r"[\u4e00-\u9fa5]{1,8}(?:东|西|南|北|中)?(?:大道|路|街|巷)\d+号|"
    r"[\u4e00-\u9fa5]{1,6}(?:东|西|南|北|中)(?:路|街)|[一二三四五六七八九十\d]+楼(?:[\u4e00-\u9fa5\d]*窗口)?|\d+号窗口"
)
_FEE = re.compile(r"\d+(?:\.\d+)?\s*(?:元|块)|[¥￥]\s*\d")
_HOURS = re.compile(r"\d{1,2}[:：]\d{2}")
_WECHAT = re.compile(r"微信公众号|公众号")


def _digits(text: str) -> str:
    return "".join(c for c in text if c.isdigit())


def _texts(entry: Entry) -> list[tuple[str, str]]:
    """(field path, text) of everything a card shows from the entry's content."""
    out: list[tuple[str, str]] = [("summary", entry.summary)]
    out += [(f"bundled_matters.{i}.department", m.department) for i, m in enumerate(entry.bundled_matters)]
    out += [(f"conditions.{i}", c) for i, c in enumerate(entry.conditions)]
    out += [(f"materials.{i}.notes", m.notes) for i, m in enumerate(entry.materials)]
    out += [(f"materials.{i}.name", m.name) for i, m in enumerate(entry.materials)]
    out += [(f"steps.{i}.description", s.description) for i, s in enumerate(entry.steps)]
    out += [("time_limit.note", entry.time_limit.note), ("fees", entry.fees), ("phone", entry.phone)]
    loc = entry.location
    out += [("location.window", loc.window), ("location.address", loc.address), ("location.hours", loc.hours)]
    out += [("online.note", entry.online.note)]
    for site, o in entry.site_overrides.items():
        out += [(f"site_overrides.{site}.{k}", v) for k, v in o.model_dump().items() if k != "map_url"]
    return [(path, text) for path, text in out if text]


def contact_problems(entry: Entry, profile: BureauProfile) -> list[FieldProblem]:
    """Sample entries (not from an official source) may not state phone numbers, addresses, opening
    hours or fees the bureau has not published in its profile; site ids must exist in the profile."""
    problems = [
        FieldProblem(f"sites.{i}", f"机构资料中没有分站点「{s}」")
        for i, s in enumerate(entry.sites)
        if not profile.has_site(s)
    ]
    problems += [
        FieldProblem(f"site_overrides.{s}", f"机构资料中没有分站点「{s}」")
        for s in entry.site_overrides
        if not profile.has_site(s)
    ]
    problems += [
        FieldProblem(f"claims.{i}.document", f"机构资料中没有文件「{c.document}」")
        for i, c in enumerate(entry.claims)
        if c.document not in profile.documents
    ]
    if not entry.sample or entry.official_source:
        return problems
    known = profile.known_numbers()
    for path, text in _texts(entry):
        phones = [p for p in _PHONE.findall(text) if _digits(p) not in known]
        if phones:
            problems.append(
                FieldProblem(
                    path, f"示例条目不能写机构资料以外的电话（{phones[0]}），请在机构资料中填写或注明官方来源"
                )
            )
        if (found := _ADDRESS.search(text)) or (found := _WECHAT.search(text)):
            problems.append(
                FieldProblem(
                    path,
                    f"示例条目不能写具体地址或账号（{found.group(0)}），请在机构资料中填写或注明官方来源",
                )
            )
        if found := _HOURS.search(text):
            problems.append(
                FieldProblem(path, f"示例条目不能写办公时间（{found.group(0)}），请在机构资料中填写")
            )
        if found := _FEE.search(text):
            problems.append(FieldProblem(path, f"示例条目不能写收费金额（{found.group(0)}），请注明官方来源"))
    return problems
