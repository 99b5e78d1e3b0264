"""scripts/check_layers.py: the one-way layers `make lint` enforces."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

from core.settings import ROOT


def _checker() -> ModuleType:
    spec = importlib.util.spec_from_file_location("check_layers", ROOT / "scripts" / "check_layers.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _write(root: Path, rel: str, text: str) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def test_the_project_imports_only_downwards() -> None:
    bad, stale = _checker().violations(ROOT)
    assert bad == [] and stale == []


def test_a_reversed_or_sideways_import_is_reported_wherever_it_is(tmp_path: Path) -> None:
    _write(tmp_path, "core/__init__.py", "")
    _write(tmp_path, "core/db.py", "def f():\n    from web.app import create_app  # inside a function\n")
    _write(tmp_path, "web/__init__.py", "from actions import grounding\n")  # a sibling front door
    _write(tmp_path, "web/routes/chat.py", "import core.db\nfrom ..app import x\nimport numpy\n")  # all fine
    _write(tmp_path, "knowledge/store.py", "from . import models\nfrom ..retrieval import engine\n")
    _write(tmp_path, "web/routes/stats.py", "from web.routes.gaps import cluster_public\n")
    _write(tmp_path, "web/routes/gaps.py", "from web.editor_schemas import GapsPublic\n")
    bad, stale = _checker().violations(tmp_path)
    assert "web/routes/stats.py: web.routes.stats imports web.routes.gaps (route to route)" in bad
    bad = [line for line in bad if "route to route" not in line]
    assert "core/db.py: core.db imports web (a higher layer)" in bad
    assert "web/__init__.py: web imports actions (same layer)" in bad
    assert "knowledge/store.py: knowledge.store imports retrieval (a higher layer)" in bad
    assert not any("routes/chat" in line for line in bad)
    assert len(bad) == 3
    assert len(stale) == len(_checker().KNOWN)  # none of the known exceptions occurs in this tree


def test_every_package_has_a_layer_and_is_typechecked_and_shipped() -> None:
    """A new top-level package gets a place in the layers, in ``make typecheck``, in the app image and
    in the distribution (four lists that must name the same packages)."""
    packages = {p.parent.name for p in ROOT.glob("*/__init__.py")} - {"tests"}
    layered = set().union(*_checker().LAYERS)
    assert packages == layered
    typecheck = (ROOT / "Makefile").read_text(encoding="utf-8").split("\ntypecheck:")[1].split("\n\n")[0]
    image = (ROOT / "deploy" / "Dockerfile.app").read_text(encoding="utf-8")
    distribution = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    for package in sorted(packages):
        assert f" {package} " in typecheck, f"make typecheck skips {package}"
        if package not in {"evaluation", "adaptation"}:  # measuring and training: the image runs neither
            assert f"COPY {package} {package}\n" in image, f"deploy/Dockerfile.app leaves out {package}"
        assert f'"{package}*"' in distribution, f"pyproject.toml leaves out {package}"


def test_lint_runs_the_layer_check() -> None:
    lint = (ROOT / "Makefile").read_text(encoding="utf-8").split("\nlint:")[1].split("\n\n")[0]
    assert "scripts/check_layers.py" in lint
