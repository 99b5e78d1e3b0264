"""One-way layers between the app's packages, checked by `make lint`: ``python scripts/check_layers.py``.

A package may import packages of lower layers only; packages in the same layer do not import each other.
Every import counts, including one inside a function. From the top:

    evaluation                 benchmarks and quality measurements (they drive everything below)
    web | actions              the HTTP app and the Rasa action server: two front doors, independent
    ops | adaptation           processes, migrations, retention, the launcher | training the bureau's
                               adapted encoder and re-ranker (it mines negatives with the engine)
    retrieval                  the knowledge engine: search, ranking, the live index
    embeddings                 encoders, vector index, embedding cache
    handoff                    a ticket's life: status, queue, presence and working hours
    knowledge                  an entry's life: entries, their store, workflow, import/export, ratings, gaps
    conversations              the chat transcript (masked messages) and the browser bindings
    core                       settings, database engine and sessions, accounts, shared utilities

Each package declares its own tables (``<package>/tables.py``; core's beside the code that owns them).

Within the web app, route modules (``web/routes/*``) do not import each other: what two routes share
lives in a module of ``web/`` (schemas, the conversation binding, the pages).

``KNOWN`` lists the reversed imports that exist today, each with where it should move; the check fails
on any other reversed import, and on a listed one that no longer exists (so the list only shrinks).
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

LAYERS: list[set[str]] = [
    {"evaluation"},
    {"web", "actions"},
    {"ops", "adaptation"},
    {"retrieval"},
    {"embeddings"},
    {"handoff"},
    {"knowledge"},
    {"conversations"},
    {"core"},
]

#: (importing module, imported package) → where the code should go
KNOWN: dict[tuple[str, str], str] = {}


def layer_of(package: str) -> int | None:
    for i, layer in enumerate(LAYERS):
        if package in layer:
            return i
    return None


def imports_of(path: Path, module: str) -> set[str]:
    """Top-level packages (of the layered ones) that a module imports, anywhere in its body."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against the importing module's package
                base = module.split(".")[: -node.level] if path.name != "__init__.py" else module.split(".")
                if path.name == "__init__.py" and node.level > 1:
                    base = module.split(".")[: -(node.level - 1)]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            found.add(target.split(".")[0])
    return {p for p in found if layer_of(p) is not None}


def violations(root: Path) -> tuple[list[str], list[str]]:
    """(reversed imports not in KNOWN, KNOWN entries that no longer occur)."""
    bad: list[str] = []
    seen: set[tuple[str, str]] = set()
    for layer in LAYERS:
        for package in sorted(layer):
            for path in sorted((root / package).rglob("*.py")):
                rel = path.relative_to(root).with_suffix("")
                module = ".".join(rel.parts[:-1] if rel.name == "__init__" else rel.parts)
                own = layer_of(package)
                assert own is not None
                for imported in sorted(imports_of(path, module)):
                    theirs = layer_of(imported)
                    if imported == package or theirs is None or theirs > own:
                        continue
                    key = (module, imported)
                    if key in KNOWN:
                        seen.add(key)
                        continue
                    kind = "same layer" if theirs == own else "a higher layer"
                    bad.append(f"{path.relative_to(root)}: {module} imports {imported} ({kind})")
    stale = [f"{m} → {p}: no longer imported; remove it from KNOWN" for (m, p) in KNOWN if (m, p) not in seen]
    return bad + route_to_route(root), stale


def route_to_route(root: Path) -> list[str]:
    """Route modules that import another route module."""
    bad = []
    for path in sorted((root / "web" / "routes").glob("*.py")):
        module = f"web.routes.{path.stem}"
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            for name in names:
                parts = name.split(".")
                if (
                    parts[:2] == ["web", "routes"]
                    and len(parts) == 3
                    and name != module
                    and path.stem != "__init__"
                ):
                    bad.append(f"{path.relative_to(root)}: {module} imports {name} (route to route)")
    return bad


def main(argv: list[str] | None = None) -> int:
    root = Path(argv[0]) if argv else Path(__file__).resolve().parent.parent
    bad, stale = violations(root)
    for line in bad + stale:
        print(line)
    if bad or stale:
        print(
            f"layers: {len(bad)} reversed import(s), {len(stale)} stale exception(s) (scripts/check_layers.py)"
        )
        return 1
    print(f"layers: one-way ({len(KNOWN)} known exceptions to move)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
