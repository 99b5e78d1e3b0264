"""Documentation and consistency checks: settings documented, domain actions registered."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from zoneinfo import ZoneInfo

import yaml

from core.hours import HoursSpec, zone
from core.setting_types import RateSpec
from core.settings import ROOT, Settings
from tests.test_layers import _checker


def test_every_setting_is_in_env_example_and_readme() -> None:
    example = (ROOT / ".env.example").read_text(encoding="utf-8")
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for name in Settings.model_fields:
        assert re.search(rf"^{name.upper()}=", example, re.M), f"{name} missing in .env.example"
        assert f"`{name.upper()}`" in readme, f"{name} missing in the README configuration table"


def test_documented_defaults_are_the_real_ones() -> None:
    example = (ROOT / ".env.example").read_text(encoding="utf-8")
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for name, field in Settings.model_fields.items():
        default = field.default
        if isinstance(default, RateSpec):
            parse: Callable[[str], object] = RateSpec.parse
        elif isinstance(default, HoursSpec):
            parse = HoursSpec.parse
        elif isinstance(default, ZoneInfo):
            parse = zone
        elif isinstance(default, int | float) and not isinstance(default, bool):
            parse, default = float, float(default)
        else:
            continue
        line = re.search(rf"^{name.upper()}=(.*)$", example, re.M)
        assert line and parse(line.group(1)) == default, f"{name}: .env.example says {line and line.group(1)}"
        row = re.search(rf"^\| `{name.upper()}` \| `([^`]*)`", readme, re.M)
        assert row and parse(row.group(1)) == default, f"{name}: the README says {row and row.group(1)}"


def test_every_setting_is_read_by_some_code() -> None:
    """A documented setting that nothing reads is a promise the software does not keep."""
    code = "\n".join(
        path.read_text(encoding="utf-8")
        for layer in _checker().LAYERS
        for package in layer
        for path in (ROOT / package).rglob("*.py")
        if path != ROOT / "core" / "settings.py"
    )
    settings_code = (ROOT / "core" / "settings.py").read_text(encoding="utf-8").split("class Settings", 1)[1]
    methods = settings_code.split("\n    def ", 1)[1] if "\n    def " in settings_code else ""
    unread = [n for n in Settings.model_fields if not re.search(rf"\.{n}\b", code + methods)]
    assert unread == [], f"settings nothing reads: {unread}"


def _endpoints_in(text: str) -> set[tuple[str, str]]:
    """``GET /api/entries/{id}/diff?a=&b=`` → ("GET", "/api/entries/{}/diff"): parameters unnamed
    (``{id}`` or ``<id>``)."""
    found = re.findall(r"\b(GET|POST|PUT|PATCH|DELETE) (/[^\s`?,;)]*)", text)
    return {(method, re.sub(r"\{[^}]*\}|<[^>]*>", "{}", path)) for method, path in found}


def test_every_endpoint_is_in_the_readme_and_every_endpoint_there_exists(tmp_path: Path) -> None:
    """The README's HTTP API table is where people look: an endpoint missing there is one nobody finds,
    and one that no longer exists misleads."""
    from web.app import create_app

    app = create_app(Settings(database_url=f"sqlite:///{tmp_path / 'docs.db'}", data_dir=tmp_path))
    served = {
        (method.upper(), re.sub(r"\{[^}]*\}", "{}", path))
        for path, operations in app.openapi()["paths"].items()
        for method in operations
    }
    mentioned = _endpoints_in((ROOT / "README.md").read_text(encoding="utf-8"))
    assert sorted(served - mentioned) == [], "endpoints the README does not mention"
    assert sorted(mentioned - served) == [], "endpoints the README mentions that the app does not serve"


def test_readme_gives_the_two_commands() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "make run" in readme and "make test" in readme
    assert "make test" in (ROOT / ".ci" / "run").read_text(encoding="utf-8")


def _domain() -> dict:
    merged: dict = {"actions": [], "responses": {}}
    for path in sorted((ROOT / "bot" / "domain").glob("*.yml")):
        part = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        merged["actions"] += part.get("actions", [])
        merged["responses"].update(part.get("responses", {}))
    return merged


def test_domain_actions_equal_registered_actions() -> None:
    import importlib
    import pkgutil

    from rasa_sdk import Action

    import actions

    for mod in pkgutil.iter_modules(actions.__path__):
        importlib.import_module(f"actions.{mod.name}")

    def subclasses(cls: type) -> set[type]:
        out: set[type] = set()
        sub: type
        for sub in cls.__subclasses__():
            out |= {sub} | subclasses(sub)
        return out

    registered = {c().name() for c in subclasses(Action) if c.__module__.startswith("actions.")}
    assert set(_domain()["actions"]) == registered


def test_every_utter_used_in_bot_data_exists() -> None:
    responses = set(_domain()["responses"])
    used: set[str] = set()
    for path in (ROOT / "bot").rglob("*.yml"):
        used |= set(re.findall(r"\butter_[a-z_]+", path.read_text(encoding="utf-8")))
    used -= {n for n in used if n.startswith("utter_ask_")} - responses
    assert used <= responses, used - responses


def test_no_service_content_in_bot_training_data() -> None:
    """Editing knowledge never retrains: responses carry no service facts (fees, materials, addresses)."""
    text = yaml.safe_dump(_domain()["responses"], allow_unicode=True)
    for fact in ("元", "工作日", "身份证原件", "金鹗", "户口簿"):
        assert fact not in text
