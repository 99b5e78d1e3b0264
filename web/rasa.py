"""Client of the Rasa server's REST channel and HTTP API (loopback, token-protected)."""

from __future__ import annotations

from typing import Any

import httpx


class RasaUnavailable(Exception):
    """Rasa did not answer in time or answered with an error."""


class RasaClient:
    def __init__(self, base_url: str, token: str, timeout: float) -> None:
        self._client = httpx.AsyncClient(base_url=base_url, timeout=timeout)
        self._token = token

    async def send(self, sender_id: str, text: str) -> list[dict[str, Any]]:
        try:
            r = await self._client.post("/webhooks/rest/webhook", json={"sender": sender_id, "message": text})
            r.raise_for_status()
        except httpx.HTTPError as exc:
            raise RasaUnavailable(str(exc) or type(exc).__name__) from exc
        data = r.json()
        return data if isinstance(data, list) else []

    async def add_event(self, sender_id: str, event: dict[str, Any] | list[dict[str, Any]]) -> None:
        """Append one event (or several, in order) to the conversation's tracker."""
        try:
            r = await self._client.post(
                f"/conversations/{sender_id}/tracker/events",
                params={"token": self._token},
                json=event,
            )
            r.raise_for_status()
        except httpx.HTTPError as exc:
            raise RasaUnavailable(str(exc) or type(exc).__name__) from exc

    async def resume(self, sender_id: str) -> None:
        """Hand a paused conversation back to the bot (after a human takeover).

        The handoff action paused the conversation before Rasa could predict ``action_listen``; without
        that listen the next message follows ``action_handoff`` directly, the rules do not match, and the
        fallback's rewind hands the citizen straight back to a human.
        """
        await self.add_event(sender_id, [{"event": "resume"}, {"event": "action", "name": "action_listen"}])

    async def healthy(self) -> bool:
        try:
            r = await self._client.get("/status", params={"token": self._token}, timeout=3)
            return r.status_code == 200 and bool(r.json().get("model_file"))
        except (httpx.HTTPError, ValueError):
            return False

    async def aclose(self) -> None:
        await self._client.aclose()


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
