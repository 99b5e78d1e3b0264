"""Schema validation, YAML / JSON Lines round trips and all-or-nothing imports."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from core.db import session_factory
from core.migrate import migrate
from core.settings import ROOT, Settings
from knowledge.errors import EntryInvalid, ValidationFailed
from knowledge.io import read_jsonl, read_yaml_dir, write_jsonl, write_yaml_dir
from knowledge.models import Entry, Kind
from knowledge.store import EntryStore
from knowledge.validation import check_entry

SEED = ROOT / "knowledge" / "entries"
REQUIRED_IDS = [
    "enterprise-opening",
    "enterprise-info-change",
    "restaurant-opening",
    "transport-company-opening",
    "utilities-joint-installation",
    "credit-repair",
    "bankruptcy-info-check",
    "ipo-compliance-check",
    "newborn-birth",
    "school-enrollment",
    "social-security-card",
    "disability-services",
    "retirement",
    "after-death",
    "public-rental-housing",
    "talent-apartment",
    "civil-servant-lifecycle",
    "enterprise-deregistration",
    "individual-business-opening",
    "medical-insurance-designation",
    "id-card",
    "hukou-transfer",
    "residence-permit",
    "flexible-employment-insurance",
    "unemployment-benefit",
    "housing-fund-withdrawal",
    "housing-fund-loan",
    "medical-cross-region",
    "resident-medical-insurance",
    "maternity-allowance",
    "property-transfer",
    "property-mortgage",
    "property-certificate-reissue",
    "marriage-registration",
    "food-business-license",
    "employment-service",
    "entrepreneur-loan",
    "minimum-living-allowance",
    "passport",
    "service-center",
    "hotline-12345",
    "cant-get-it-done",
    "good-bad-review",
    "xiangyiban",
    "assisted-service",
]


KNOWN = frozenset(p.stem for p in SEED.glob("*.yml"))


def _raw(entry_id: str = "newborn-birth") -> dict:
    return yaml.safe_load((SEED / f"{entry_id}.yml").read_text(encoding="utf-8"))


def test_seed_has_the_required_published_entries(seed_entries: list[Entry]) -> None:
    ids = {e.id for e in seed_entries}
    assert set(REQUIRED_IDS) <= ids
    assert sum(e.status.value == "published" for e in seed_entries) >= 50
    for e in seed_entries:
        assert e.sample, e.id
        assert len(e.similar_questions) >= 5, e.id


def test_enterprise_opening_carries_the_bureaus_commitment(seed_entries: list[Entry]) -> None:
    e = next(x for x in seed_entries if x.id == "enterprise-opening")
    assert e.kind is Kind.bundle and len(e.bundled_matters) == 6
    names = "".join(m.name for m in e.bundled_matters)
    for matter in ("设立登记", "公章", "发票", "参保", "公积金", "银行开户"):
        assert matter in names
    assert len(e.steps) <= 3 and len(e.materials) <= 6
    assert e.time_limit.promised_days is not None and e.time_limit.promised_days <= 2
    for phrase in (
        "一门进出",
        "一次告知",
        "一窗受理",
        "一套表单",
        "一次采集",
        "一网通办",
        "一次办好",
        "一次送达",
    ):
        assert phrase in e.summary


def test_yaml_errors_name_file_entry_field_and_problem(tmp_path: Path) -> None:
    raw = _raw()
    raw["materials"][0]["copies"] = -1
    (tmp_path / "newborn-birth.yml").write_text(yaml.safe_dump(raw, allow_unicode=True), "utf-8")
    with pytest.raises(ValidationFailed) as exc:
        read_yaml_dir(tmp_path)
    problem = exc.value.problems[0]
    assert problem.source == "newborn-birth.yml"
    assert problem.entry_id == "newborn-birth"
    assert problem.field == "materials.0.copies"
    assert "greater than or equal" in problem.message


def test_condition_must_name_a_known_situation(tmp_path: Path) -> None:
    raw = _raw()
    raw["materials"][2]["condition"] = {"no_such_question": "yes"}
    (tmp_path / "newborn-birth.yml").write_text(yaml.safe_dump(raw, allow_unicode=True), "utf-8")
    with pytest.raises(ValidationFailed, match="unknown situation 'no_such_question'"):
        read_yaml_dir(tmp_path)


def test_a_line_fold_inside_chinese_text_is_a_stray_space(tmp_path: Path) -> None:
    """A folded YAML line (``summary: >-``) joins its lines with a space: 可申报 人才公寓."""
    text = _raw("talent-apartment")
    raw_yaml = yaml.safe_dump(text, allow_unicode=True, width=10_000)
    folded = raw_yaml.replace("可申报人才公寓", "可申报\n  人才公寓", 1)
    assert folded != raw_yaml
    (tmp_path / "talent-apartment.yml").write_text(folded.replace("summary: ", "summary: >-\n  ", 1), "utf-8")
    with pytest.raises(ValidationFailed) as exc:
        read_yaml_dir(tmp_path)
    spacing = [p for p in exc.value.problems if "多余的空格" in p.message]
    assert [(p.field, "可申报 人才公寓" in p.message) for p in spacing] == [("summary", True)]


@pytest.mark.parametrize(
    ("field", "value", "flagged"),
    [
        ("steps.0.title", "抚恤金 申领", True),
        ("conditions.0", "本人及配偶　在城区", True),  # a full-width space too
        ("materials.0.notes", "已婚的，提供结婚证。 未婚的不用", True),
        ("materials.0.notes", "通过湘易办 App 申请", False),  # beside Latin text: a word space
        ("legal_basis.0", "《财政部 税务总局关于……的公告》", False),  # a citation keeps its spacing
    ],
)
def test_stray_spaces_in_chinese_text_are_rejected(field: str, value: str, flagged: bool) -> None:
    raw = _raw()
    target = raw
    *path, last = field.split(".")
    for key in path:
        target = target[int(key)] if key.isdigit() else target[key]
    if last.isdigit():
        target[int(last)] = value
    else:
        target[last] = value
    if not flagged:
        assert check_entry(raw, KNOWN).id == "newborn-birth"
        return
    with pytest.raises(EntryInvalid) as exc:
        check_entry(raw, KNOWN)
    assert [p.field for p in exc.value.problems] == [field]
    assert "多余的空格" in exc.value.problems[0].message


def test_broken_yaml_and_wrong_file_name_are_reported(tmp_path: Path) -> None:
    (tmp_path / "bad.yml").write_text("id: [unclosed", "utf-8")
    raw = _raw()
    (tmp_path / "other-name.yml").write_text(yaml.safe_dump(raw, allow_unicode=True), "utf-8")
    with pytest.raises(ValidationFailed) as exc:
        read_yaml_dir(tmp_path)
    text = str(exc.value)
    assert "bad.yml" in text and "not valid YAML" in text
    assert "other-name.yml" in text and "must equal the file name" in text


def test_round_trip_yaml_and_jsonl(tmp_path: Path, seed_entries: list[Entry]) -> None:
    small = [e.model_copy(update={"related": []}) for e in seed_entries[:5]]
    write_yaml_dir(small, tmp_path / "yaml")
    assert read_yaml_dir(tmp_path / "yaml") == small
    write_jsonl(small, tmp_path / "e.jsonl")
    assert read_jsonl(tmp_path / "e.jsonl") == small


def test_jsonl_errors_name_the_line(tmp_path: Path) -> None:
    good = json.dumps(_raw() | {"related": []}, ensure_ascii=False, default=str)
    (tmp_path / "e.jsonl").write_text(good + "\n{not json}\n", "utf-8")
    with pytest.raises(ValidationFailed, match=r"e.jsonl:2"):
        read_jsonl(tmp_path / "e.jsonl")


def test_import_is_all_or_nothing(settings: Settings, tmp_path: Path, seed_entries: list[Entry]) -> None:
    from knowledge.cli import main

    migrate(settings.database_url)
    store = EntryStore(session_factory(settings.database_url))
    folder = tmp_path / "in"
    write_yaml_dir([e.model_copy(update={"related": []}) for e in seed_entries[:3]], folder)
    bad = yaml.safe_load((folder / f"{seed_entries[1].id}.yml").read_text("utf-8"))
    bad["title"] = ""
    (folder / f"{seed_entries[1].id}.yml").write_text(yaml.safe_dump(bad, allow_unicode=True), "utf-8")
    assert main(["--database-url", settings.database_url, "import", str(folder)]) == 1
    assert store.count() == 0
    write_yaml_dir([seed_entries[1].model_copy(update={"related": []})], folder)
    assert main(["--database-url", settings.database_url, "import", str(folder)]) == 0
    assert store.count() == 3
