"""The web app's client of the node's Rasa servers, against real local HTTP servers."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from core.settings import Settings
from web.rasa import RasaClient, RasaUnavailable


class FakeRasa:
    """A Rasa stand-in that records which conversation each request was for."""

    def __init__(self, status: int = 200) -> None:
        self.seen: list[str] = []
        self.status = status
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                outer.seen.append(body.get("sender") or self.path)
                self._answer([{"text": f"{outer.port}:{body.get('message', '')}"}])

            def do_GET(self) -> None:
                self._answer({"model_file": "banshi.tar.gz"})

            def _answer(self, data: object) -> None:
                raw = json.dumps(data).encode()
                self.send_response(outer.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def log_message(self, *args: object) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _closed_port() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}"


@pytest.fixture
def two() -> Iterator[tuple[FakeRasa, FakeRasa]]:
    a, b = FakeRasa(), FakeRasa()
    yield a, b
    a.close()
    b.close()


def _run(coro):  # type: ignore[no-untyped-def]
    return asyncio.run(coro)


def test_each_conversation_stays_on_its_home_server(two: tuple[FakeRasa, FakeRasa]) -> None:
    a, b = two

    async def go() -> RasaClient:
        client = RasaClient([a.url, b.url], "t", 5)
        for i in range(40):
            sender = f"s{i}"
            for turn in range(3):
                await client.send(sender, f"turn {turn}")
        await client.aclose()
        return client

    client = _run(go())
    assert a.seen and b.seen  # both servers take conversations
    assert not set(a.seen) & set(b.seen)  # and no conversation is split between them
    for sender in set(a.seen):
        assert client.home(sender) == 0 and a.seen.count(sender) == 3


def test_a_server_that_refuses_the_connection_is_skipped(two: tuple[FakeRasa, FakeRasa]) -> None:
    a, _ = two
    dead = _closed_port()

    async def go() -> tuple[list[bool], list[list[dict[str, str]]]]:
        client = RasaClient([dead, a.url], "t", 5)
        replies = [await client.send(f"s{i}", "你好") for i in range(10)]
        health = await client.health()
        assert not await client.healthy()  # one server down: the node is degraded
        await client.aclose()
        return health, replies

    health, replies = _run(go())
    assert health == [False, True]
    assert all(r == [{"text": f"{a.port}:你好"}] for r in replies)  # every turn answered, by the live one
    assert len(a.seen) == 10


def test_an_error_from_a_server_is_not_retried_elsewhere(two: tuple[FakeRasa, FakeRasa]) -> None:
    """A server that accepted the request may have processed it: sending it again could double a turn."""
    a, b = two
    a.status = b.status = 500

    async def go() -> None:
        client = RasaClient([a.url, b.url], "t", 5)
        try:
            with pytest.raises(RasaUnavailable):
                await client.send("s1", "你好")
        finally:
            await client.aclose()

    _run(go())
    assert len(a.seen) + len(b.seen) == 1


def test_every_server_down_is_unavailable() -> None:
    async def go() -> None:
        client = RasaClient([_closed_port(), _closed_port()], "t", 5)
        try:
            with pytest.raises(RasaUnavailable):
                await client.send("s1", "你好")
            assert await client.health() == [False, False]
        finally:
            await client.aclose()

    _run(go())


def test_the_settings_name_one_url_per_rasa_process() -> None:
    s = Settings(rasa_url="http://127.0.0.1:5005", rasa_processes=3)  # type: ignore[call-arg]
    assert s.rasa_urls == ["http://127.0.0.1:5005", "http://127.0.0.1:5006", "http://127.0.0.1:5007"]
    assert Settings(rasa_processes=1).rasa_urls == [Settings().rasa_url]  # type: ignore[call-arg]
    with pytest.raises(ValueError):
        Settings(rasa_processes=0)  # type: ignore[call-arg]
