"""Store contract: the same tests against SQLite and a real PostgreSQL (SKIP_POSTGRES=1 skips that half)."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from core.db import session_factory
from core.migrate import migrate
from knowledge.errors import DraftConflict, EntryNotFound, VersionConflict
from knowledge.models import Entry, Status
from knowledge.store import EntryStore
from knowledge.workflow import Actor, EntryState, Workflow
from tests.postgres import postgres_database


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path) -> Iterator[EntryStore]:  # type: ignore[no-untyped-def]
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'store.db'}"
        migrate(url)
        yield EntryStore(session_factory(url))
        return
    gen = postgres_database()
    url = next(gen)
    migrate(url)
    try:
        yield EntryStore(session_factory(url))
    finally:
        from core.db import engine_for

        engine_for(url).dispose()
        next(gen, None)


def test_import_get_list_and_version_counter(store: EntryStore, seed_entries: list[Entry]) -> None:
    assert store.count() == 0 and store.knowledge_version() == 0
    assert store.import_entries(seed_entries[:5]) == 5
    assert store.count() == 5 and store.knowledge_version() == 1
    assert store.get(seed_entries[0].id) == seed_entries[0]
    assert [e.id for e in store.published()] == sorted(e.id for e in seed_entries[:5])
    with pytest.raises(EntryNotFound):
        store.get("no-such-entry")


def test_optimistic_locking_refuses_a_stale_save(store: EntryStore, seed_entries: list[Entry]) -> None:
    store.import_entries(seed_entries[:1])
    entry = seed_entries[0]
    lock = store.lock_version(entry.id)
    store.save(entry.model_copy(update={"fees": "不收费（甲）"}), lock, "editor-a")
    with pytest.raises(VersionConflict):
        store.save(entry.model_copy(update={"fees": "不收费（乙）"}), lock, "editor-b")
    assert store.get(entry.id).fees == "不收费（甲）"


def test_published_versions_are_kept(store: EntryStore, seed_entries: list[Entry]) -> None:
    entry = seed_entries[0]
    store.import_entries([entry])
    v2 = entry.model_copy(update={"version": entry.version + 1, "phone": "0730-0000000"})
    store.save(v2, store.lock_version(entry.id), "reviewer")
    assert [v for v, _ in store.versions(entry.id)] == [entry.version, entry.version + 1]
    draft = v2.model_copy(update={"status": Status.draft, "version": v2.version + 1})
    store.save(draft, store.lock_version(entry.id), "editor")
    assert len(store.versions(entry.id)) == 2
    store.delete(entry.id)
    assert store.count() == 0


def _save_at_once(workflow: Workflow, entry_id: str, seen: EntryState, fees: list[str]) -> list[str]:
    """Each editor saves ``seen`` with its own fees, all released by one barrier; their outcomes."""
    barrier = threading.Barrier(len(fees))
    outcomes: list[str] = []

    def save(n: int) -> None:
        raw = {**seen.content, "fees": fees[n]}
        barrier.wait()
        try:
            workflow.save(entry_id, raw, seen.lock_version, Actor(f"editor-{n}", "editor"))
            outcomes.append("saved")
        except DraftConflict:
            outcomes.append("conflict")

    threads = [threading.Thread(target=save, args=(n,)) for n in range(len(fees))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sorted(outcomes)


def test_simultaneous_saves_one_wins_and_the_other_gets_a_conflict(
    store: EntryStore, seed_entries: list[Entry]
) -> None:
    """Two editors press 保存 in the same instant on the same version: never a lost update."""
    store.import_entries(seed_entries)  # an entry is checked against the entries it links to
    workflow = Workflow(store._sessions)
    entry_id = seed_entries[0].id
    for attempt in range(6):
        seen = workflow.get(entry_id)
        outcomes = _save_at_once(workflow, entry_id, seen, [f"甲改的收费{attempt}", f"乙改的收费{attempt}"])
        assert outcomes == ["conflict", "saved"], f"attempt {attempt}"
        assert workflow.get(entry_id).lock_version == seen.lock_version + 1
