"""Which materials apply to a citizen's situation (情形化), with bundle de-duplication."""

from __future__ import annotations

from dataclasses import dataclass, field

from knowledge.models import Entry, Material

UNSURE = "unsure"


@dataclass
class ChecklistItem:
    name: str
    form: str
    copies: int
    waivable: bool
    notes: str
    conditional: bool = False  # the citizen was unsure: "如属…情形" is shown with the item
    condition_text: str = ""
    matters: list[str] = field(default_factory=list)


def _applies(material: Material, answers: dict[str, str]) -> bool | None:
    """True / False when decided by the answers, None when an answer is missing or unsure."""
    undecided = False
    for key, wanted in material.condition.items():
        given = answers.get(key)
        if given is None or given == UNSURE:
            undecided = True
            continue
        values = [wanted] if isinstance(wanted, str) else wanted
        if given not in values:
            return False
    return None if undecided else True


def build_checklist(entry: Entry, answers: dict[str, str] | None = None) -> list[ChecklistItem]:
    """The materials that apply, each listed once even when several bundled matters need it."""
    answers = answers or {}
    items: dict[tuple[str, str], ChecklistItem] = {}
    for material in entry.materials:
        decided = _applies(material, answers)
        if decided is False:
            continue
        key = (material.name.replace(" ", ""), material.form.value)
        if key in items:
            item = items[key]
            item.copies = max(item.copies, material.copies)
            item.matters += [m for m in material.matters if m not in item.matters]
            item.conditional = item.conditional and decided is None
            continue
        items[key] = ChecklistItem(
            name=material.name,
            form=material.form.value,
            copies=material.copies,
            waivable=material.waivable,
            notes=material.notes,
            conditional=decided is None and bool(material.condition),
            condition_text=material.condition_text,
            matters=list(material.matters),
        )
    return list(items.values())


def open_situations(entry: Entry, answers: dict[str, str]) -> list[str]:
    """Situation ids still to ask: only those that change which materials apply."""
    relevant = {key for m in entry.materials for key in m.condition}
    return [s.id for s in entry.situations if s.id in relevant and s.id not in answers]
