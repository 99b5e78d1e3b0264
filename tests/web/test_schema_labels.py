"""``GET /api/schema/labels``: the names the pages show come from the Python models (the pages
hold no copy of them: tests/web/test_frontend.py)."""

from __future__ import annotations

import re
import typing

from fastapi.testclient import TestClient

from core.accounts import ROLES
from core.settings import ROOT
from handoff.status import CANCELLED, RESOLUTIONS, HandoffReason, TicketStatus
from knowledge.diff import FIELD_LABELS, Change
from knowledge.gaps import REASONS
from knowledge.models import CHANNEL_TITLES, KIND_TITLES, Entry, Kind, Status, Step, field_titles
from knowledge.render import ALL_PARTS, PART_TITLES
from knowledge.xlsx import KINDS
from web.labels import RECORDS, labels
from web.stats import OUTCOMES


def test_the_endpoint_serves_the_labels_to_anyone(client: TestClient) -> None:
    client.cookies.clear()  # public: the login pages need them before anyone logs in
    r = client.get("/api/schema/labels")
    assert r.status_code == 200 and "max-age" in r.headers["cache-control"]
    assert r.json() == labels().model_dump()
    assert "/api/schema/labels" in client.get("/openapi.json").json()["paths"]


def test_field_names_are_the_models_titles() -> None:
    served = labels()
    assert served.fields == {name: f.title for name, f in Entry.model_fields.items()}
    assert all(served.fields.values())
    for path, model in RECORDS.items():
        assert served.records[path] == {name: f.title for name, f in model.model_fields.items()}
        assert all(served.records[path].values()), path
    # every record model of the entry is named, by the path that holds it
    entry_records = {
        name
        for name, f in Entry.model_fields.items()
        if any(m in RECORDS.values() for m in _models_in(f.annotation))
    }
    assert entry_records <= set(RECORDS)
    # the card's part titles and the diff's field names are the same titles
    assert served.parts == PART_TITLES and list(PART_TITLES) == ALL_PARTS
    assert all(PART_TITLES[p] == served.fields[p] for p in PART_TITLES)
    assert field_titles(Entry) == FIELD_LABELS


def _models_in(annotation: object) -> list[type]:
    found: list[type] = []
    if isinstance(annotation, type):
        found.append(annotation)
    for arg in typing.get_args(annotation):
        found += _models_in(arg)
    return found


def test_every_code_has_a_label() -> None:
    served = labels()
    assert set(served.kinds) == {k.value for k in Kind} and {v: k for k, v in KIND_TITLES.items()} == KINDS
    pattern = Step.model_fields["channel"].metadata[0].pattern
    assert set(served.channels) == set(CHANNEL_TITLES) and all(re.match(pattern, c) for c in CHANNEL_TITLES)
    assert set(served.entry_statuses) == {s.value for s in Status}
    assert set(served.roles) == set(ROLES)
    assert set(served.handoff_statuses) == set(TicketStatus)
    assert set(served.resolutions) == {*RESOLUTIONS, CANCELLED}
    assert set(served.gap_reasons) == set(REASONS)
    assert set(served.outcomes) == set(OUTCOMES)
    assert set(served.change_ops) == set(typing.get_args(typing.get_type_hints(Change)["op"]))
    assert set(served.handoff_reasons) == set(HandoffReason)  # every reason a ticket can carry, named


def test_every_audited_action_has_a_label() -> None:
    sources = (ROOT / "knowledge" / "workflow.py").read_text(encoding="utf-8") + (
        ROOT / "web" / "routes" / "gaps.py"
    ).read_text(encoding="utf-8")
    recorded = set(re.findall(r'(?:_audit\(s, actor|record\(\s*actor\(user\)),\s*"([a-z_]+)"', sources))
    assert len(recorded) > 10
    assert recorded == set(labels().audit_actions)
