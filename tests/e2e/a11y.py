"""Accessibility check of a page in the real browser: axe-core (from the npm registry, installed by
``make setup`` into node_modules/) injected into the page, WCAG 2.x A/AA rules."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page

from core.settings import ROOT

AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
BLOCKING = frozenset({"serious", "critical"})


def axe_violations(page: Page, include: str | None = None) -> list[dict[str, Any]]:
    """Serious and critical axe-core violations on the page (or inside the ``include`` selector)."""
    if not AXE.exists():
        pytest.fail(f"{AXE} is missing: run 'make setup' (it installs axe-core with npm ci)")
    if not page.evaluate("() => typeof window.axe === 'object'"):
        # evaluated by the browser's devtools protocol: the pages' script-src 'self' policy refuses
        # an inline <script> (add_script_tag), not this
        page.evaluate(AXE.read_text(encoding="utf-8"))
    result: dict[str, Any] = page.evaluate(
        """async (include) => await axe.run(include ? {include: [include]} : document, {
            runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']},
            resultTypes: ['violations'],
        })""",
        include,
    )
    return [v for v in result["violations"] if v.get("impact") in BLOCKING]


def describe(violations: list[dict[str, Any]]) -> str:
    """One line per violation and node, for an assertion message a person can act on."""
    lines = []
    for v in violations:
        for node in v["nodes"][:5]:
            lines.append(f"{v['impact']} {v['id']}: {v['help']} — {' '.join(node['target'])}")
    return "\n".join(lines)
