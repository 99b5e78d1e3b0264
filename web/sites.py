"""The citizen's 分站点 in chat answers: cards are rendered for the city hall by the action server;
the web app, which knows the widget's site (its ``data-site``), swaps in that site's contacts."""

from __future__ import annotations

from typing import Any

from knowledge.bureau import current_profile
from knowledge.models import Entry
from knowledge.render import localize


def localize_messages(
    messages: list[dict[str, Any]], site: str | None, entries: dict[str, Entry]
) -> list[dict[str, Any]]:
    """Cards for ``site`` (unknown or no site: the city hall, and the card offers to ask)."""
    profile = current_profile()
    out = []
    for m in messages:
        entry = entries.get(str(m.get("entry_id", ""))) if m.get("type") == "card" else None
        out.append(localize(m, entry, site, profile) if entry is not None else m)
    return out
