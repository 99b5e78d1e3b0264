"""Old paths kept working for callers outside this repository, and what keeping them costs.

- ``DeprecationHeader``: every route declared with ``deprecated=True`` (marked so in OpenAPI) answers
  with ``Deprecation: true``, whatever the route answers (200, 401, 422, …), so a caller's logs show
  that it should move.
- The aliases ``POST /api/entries/import`` and ``GET /api/entries/export`` (``web/routes/entry_transfer.py``,
  successors under ``/api/entry-transfer/``) sit where ``/api/entries/{entry_id}`` would be:
  ``GET /api/entries/export`` answers the export, so an entry with the id ``export`` could never be
  read. The web layer therefore refuses to create one (``refuse_shadowed_id``, ``refuse_shadowed_ids``);
  ``import`` is not shadowed (there is no ``POST /api/entries/{entry_id}``). The knowledge layer knows
  nothing of URLs. Remove both when the aliases go.
"""

from __future__ import annotations

from collections.abc import Iterable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from knowledge.errors import EntryInvalid, FieldProblem, Problem, ValidationFailed

#: entry ids whose ``/api/entries/{entry_id}`` a deprecated alias answers instead
SHADOWED_IDS = frozenset({"export"})


def shadowed_message(entry_id: str) -> str:
    return f"编号「{entry_id}」与旧的导出地址 /api/entries/{entry_id} 冲突，请换一个编号"


def refuse_shadowed_id(entry_id: object) -> None:
    """A new entry's id: 422 (``EntryInvalid`` on the id field) when an alias shadows it."""
    if entry_id in SHADOWED_IDS:
        raise EntryInvalid([FieldProblem("id", shadowed_message(str(entry_id)))])


def refuse_shadowed_ids(entries: Iterable[tuple[str, str]]) -> None:
    """For an import: ``(entry id, where in the file)`` pairs; raise every shadowed one (nothing imported)."""
    problems = [
        Problem(source, entry_id, "id", shadowed_message(entry_id))
        for entry_id, source in entries
        if entry_id in SHADOWED_IDS
    ]
    if problems:
        raise ValidationFailed(problems)


class DeprecationHeader:
    """``Deprecation: true`` on every response of a route declared ``deprecated=True``."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_header(message: Message) -> None:
            # the router records the matched route in the (shared) scope before the route runs
            if message["type"] == "http.response.start" and getattr(scope.get("route"), "deprecated", False):
                message = {**message, "headers": [*message.get("headers", []), (b"deprecation", b"true")]}
            await send(message)

        await self.app(scope, receive, send_with_header)
