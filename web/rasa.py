"""Client of the node's Rasa servers: REST channel and HTTP API (loopback, token-protected).

A node runs ``RASA_PROCESSES`` Rasa servers (one Python event loop each). Every conversation has a
home server, chosen from its id, so that its turns are handled one after another by the same
process (Rasa's lock store is that process's memory unless ``REDIS_URL`` is set). The conversation's
state is in the shared tracker store, so when the home server does not take the connection (it died
and is being restarted) the next one serves the turn; a request a server has accepted is never sent
twice (it may have been processed).
"""

from __future__ import annotations

import asyncio
import zlib
from typing import Any

import httpx


class RasaUnavailable(Exception):
    """Rasa did not answer in time or answered with an error."""


class RasaClient:
    def __init__(self, base_url: str | list[str], token: str, timeout: float) -> None:
        urls = [base_url] if isinstance(base_url, str) else list(base_url)
        if not urls:
            raise ValueError("RasaClient: no Rasa server")
        self._clients = [httpx.AsyncClient(base_url=url, timeout=timeout) for url in urls]
        self._token = token

    @property
    def urls(self) -> list[str]:
        return [str(c.base_url) for c in self._clients]

    def home(self, sender_id: str) -> int:
        """The index of the conversation's home server (stable across processes and restarts)."""
        return zlib.crc32(sender_id.encode("utf-8")) % len(self._clients)

    async def _post(self, sender_id: str, path: str, **kwargs: Any) -> httpx.Response:
        first = self.home(sender_id)
        order = self._clients[first:] + self._clients[:first]
        for i, client in enumerate(order):
            try:
                r = await client.post(path, **kwargs)
                r.raise_for_status()
                return r
            except httpx.ConnectError as exc:  # not accepted, so not processed: the next one may serve
                if i == len(order) - 1:
                    raise RasaUnavailable(str(exc) or type(exc).__name__) from exc
            except httpx.HTTPError as exc:
                raise RasaUnavailable(str(exc) or type(exc).__name__) from exc
        raise AssertionError("unreachable")  # pragma: no cover

    async def send(self, sender_id: str, text: str) -> list[dict[str, Any]]:
        r = await self._post(sender_id, "/webhooks/rest/webhook", json={"sender": sender_id, "message": text})
        data = r.json()
        return data if isinstance(data, list) else []

    async def add_event(self, sender_id: str, event: dict[str, Any] | list[dict[str, Any]]) -> None:
        """Append one event (or several, in order) to the conversation's tracker."""
        await self._post(
            sender_id, f"/conversations/{sender_id}/tracker/events", params={"token": self._token}, json=event
        )

    async def resume(self, sender_id: str) -> None:
        """Hand a paused conversation back to the bot (after a human takeover).

        The handoff action paused the conversation before Rasa could predict ``action_listen``; without
        that listen the next message follows ``action_handoff`` directly, the rules do not match, and the
        fallback's rewind hands the citizen straight back to a human.
        """
        await self.add_event(sender_id, [{"event": "resume"}, {"event": "action", "name": "action_listen"}])

    async def _up(self, client: httpx.AsyncClient) -> bool:
        try:
            r = await client.get("/status", params={"token": self._token}, timeout=3)
            return r.status_code == 200 and bool(r.json().get("model_file"))
        except (httpx.HTTPError, ValueError):
            return False

    async def health(self) -> list[bool]:
        """Whether each server answers with a loaded model, in the order of ``urls``."""
        return list(await asyncio.gather(*(self._up(c) for c in self._clients)))

    async def healthy(self) -> bool:
        """Every server is up (a node with one down still chats, through the others, but is degraded)."""
        return all(await self.health())

    async def aclose(self) -> None:
        for client in self._clients:
            await client.aclose()


def to_messages(responses: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rasa REST-channel responses → the widget's typed messages."""
    out: list[dict[str, Any]] = []
    for r in responses:
        custom = r.get("custom")
        if isinstance(custom, dict) and custom.get("type"):
            out.append(custom)
            continue
        if r.get("buttons"):
            out.append(
                {
                    "type": "buttons",
                    "text": r.get("text") or "",
                    "buttons": [
                        {"title": b.get("title", ""), "payload": b.get("payload", "")} for b in r["buttons"]
                    ],
                }
            )
        elif r.get("text"):
            out.append({"type": "text", "text": r["text"]})
    return out
