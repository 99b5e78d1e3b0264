"""Command line: ``python -m knowledge validate|import|export|seed``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from core.db import session_factory
from core.migrate import migrate
from core.settings import get_settings
from knowledge.errors import ValidationFailed
from knowledge.io import read_path, write_jsonl, write_yaml_dir
from knowledge.store import EntryStore


def _store(url: str) -> EntryStore:
    migrate(url)
    return EntryStore(session_factory(url))


def main(argv: list[str] | None = None) -> int:
    settings = get_settings()
    parser = argparse.ArgumentParser(prog="python -m knowledge", description=__doc__)
    parser.add_argument("--database-url", default=settings.database_url)
    sub = parser.add_subparsers(dest="command", required=True)
    p_val = sub.add_parser("validate", help="check a YAML folder or a JSON Lines file")
    p_val.add_argument("path", nargs="?", type=Path, default=settings.knowledge_dir)
    p_imp = sub.add_parser("import", help="import entries, all or nothing")
    p_imp.add_argument("path", nargs="?", type=Path, default=settings.knowledge_dir)
    p_exp = sub.add_parser("export", help="export entries")
    p_exp.add_argument("path", type=Path, help="a folder (YAML) or a .jsonl file")
    p_seed = sub.add_parser("seed", help="import the seed entries when the store is empty")
    p_seed.add_argument("path", nargs="?", type=Path, default=settings.knowledge_dir)
    args = parser.parse_args(argv)

    try:
        if args.command == "validate":
            entries = read_path(args.path)
            print(f"{args.path}: {len(entries)} entries are valid")
        elif args.command == "import":
            entries = read_path(args.path)
            n = _store(args.database_url).import_entries(entries, author="cli")
            print(f"imported {n} entries from {args.path}")
        elif args.command == "seed":
            store = _store(args.database_url)
            if store.count() == 0:
                n = store.import_entries(read_path(args.path), author="seed")
                print(f"seeded the empty store with {n} entries from {args.path}")
            else:
                print(f"store already holds {store.count()} entries: not seeding")
        elif args.command == "export":
            entries = _store(args.database_url).list_entries()
            if args.path.suffix == ".jsonl":
                n = write_jsonl(entries, args.path)
            else:
                n = write_yaml_dir(entries, args.path)
            print(f"exported {n} entries to {args.path}")
    except ValidationFailed as exc:
        print(str(exc), file=sys.stderr)
        return 1
    except FileNotFoundError as exc:
        print(f"not found: {exc.filename}", file=sys.stderr)
        return 2
    return 0
