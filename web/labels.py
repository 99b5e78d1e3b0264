"""The names the pages show for the app's codes, served once as ``GET /api/schema/labels``.

Each label comes from the Python that owns it: the entry's fields from ``Field(title=…)`` in
``knowledge/models.py`` (the card's part titles and the diff use the same), entry statuses and audit
actions from the workflow, roles from the accounts, ticket statuses and resolutions from the handoff
queue. The agent console and the editor read them from the endpoint and hold no copy.
"""

from __future__ import annotations

from functools import cache

from pydantic import BaseModel, Field

from core.accounts import ROLE_TITLES
from handoff.status import CANCELLED, RESOLUTIONS, STATUS_TITLES
from handoff.status import REASON_TITLES as HANDOFF_REASON_TITLES
from knowledge.diff import OP_TITLES, PART_LABELS
from knowledge.gaps import REASON_TITLES
from knowledge.models import (
    CHANNEL_TITLES,
    KIND_TITLES,
    Audience,
    BundledMatter,
    Claim,
    Entry,
    Location,
    Material,
    MaterialForm,
    OnlineEntry,
    Option,
    SiteOverride,
    Situation,
    Step,
    TimeLimit,
    field_titles,
)
from knowledge.render import PART_TITLES
from knowledge.workflow import ACTION_TITLES, STATE_TITLES
from web.stats import OUTCOME_TITLES

# The records inside an entry, by the entry path that holds them (the editor form's data-path).
RECORDS: dict[str, type[BaseModel]] = {
    "bundled_matters": BundledMatter,
    "situations": Situation,
    "situations.options": Option,
    "materials": Material,
    "steps": Step,
    "time_limit": TimeLimit,
    "location": Location,
    "online": OnlineEntry,
    "claims": Claim,
    "site_overrides": SiteOverride,
}
# Who said a line of a handed-over conversation, as the agent console says it.
MESSAGE_ROLE_TITLES = {"user": "市民", "bot": "智能助手", "agent": "坐席", "system": "系统"}
CANCELLED_TITLE = "群众取消等待"  # the resolution of a ticket the citizen withdrew before anyone took it

Labels = dict[str, str]


class LabelsPublic(BaseModel):
    parts: Labels = Field(description="the parts of a guide (card sections), in the card's order")
    fields: Labels = Field(description="the entry's fields → their names (Field(title=…) of the model)")
    records: dict[str, Labels] = Field(
        description="the fields of the records inside an entry, by the entry path holding them "
        "(materials, situations.options, time_limit …)"
    )
    record_keys: Labels = Field(description="how a diff names the keys inside a changed record")
    kinds: Labels = Field(description="entry kinds: bundle 一件事 · matter 单个事项 · faq 常见问题")
    audiences: list[str] = Field(description="who an entry serves")
    material_forms: list[str] = Field(description="the forms a material can take")
    channels: Labels = Field(description="where a step is done")
    entry_statuses: Labels = Field(description="draft · review · published · unpublished")
    audit_actions: Labels = Field(description="what an audit record's action did")
    change_ops: Labels = Field(description="added · removed · changed · reordered")
    gap_reasons: Labels = Field(description="why a question was recorded as a gap")
    outcomes: Labels = Field(description="how a question ended (the dashboard)")
    roles: Labels = Field(description="staff roles")
    handoff_statuses: Labels = Field(description="ticket statuses")
    handoff_reasons: Labels = Field(description="why a conversation was handed to a person")
    resolutions: Labels = Field(
        description="why a ticket was closed (what an agent chooses, then cancelled: withdrawn by the citizen)"
    )
    message_roles: Labels = Field(description="who said a line of a conversation")


@cache
def labels() -> LabelsPublic:
    return LabelsPublic(
        parts=PART_TITLES,
        fields=field_titles(Entry),
        records={path: field_titles(model) for path, model in RECORDS.items()},
        record_keys=PART_LABELS,
        kinds=KIND_TITLES,
        audiences=[a.value for a in Audience],
        material_forms=[f.value for f in MaterialForm],
        channels=CHANNEL_TITLES,
        entry_statuses=STATE_TITLES,
        audit_actions=ACTION_TITLES,
        change_ops=OP_TITLES,
        gap_reasons=REASON_TITLES,
        outcomes=OUTCOME_TITLES,
        roles=ROLE_TITLES,
        handoff_statuses=dict(STATUS_TITLES),
        handoff_reasons=dict(HANDOFF_REASON_TITLES),
        resolutions={**RESOLUTIONS, CANCELLED: CANCELLED_TITLE},
        message_roles=MESSAGE_ROLE_TITLES,
    )
