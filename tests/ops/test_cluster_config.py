"""The cluster's generated set-up: ports, peers through the balancer, shared stores, a valid haproxy.cfg."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

from core.settings import Settings
from ops.cluster import check_shared_state, cluster_children, haproxy_binary

SHARED = Settings(
    database_url="postgresql+psycopg://postgres@127.0.0.1:5432/banshi_x",
    redis_url="redis://127.0.0.1:6379/11",
)


def test_replicas_refuse_process_local_state() -> None:
    check_shared_state(Settings(database_url="sqlite:////tmp/x.db"), 1)  # one node: fine
    with pytest.raises(SystemExit, match="PostgreSQL"):
        check_shared_state(Settings(database_url="sqlite:////tmp/x.db", redis_url="redis://h"), 2)
    with pytest.raises(SystemExit, match="Redis"):
        check_shared_state(SHARED.model_copy(update={"redis_url": ""}), 2)
    check_shared_state(SHARED, 2)


def test_every_replica_reaches_its_peers_through_the_balancer(tmp_path: Path) -> None:
    kids, reps = cluster_children(SHARED, Path("model.tar.gz"), 2, 30000, tmp_path)
    assert [k.name for k in kids] == [
        "actions-0",
        "rasa-0",
        "web-0",
        "actions-1",
        "rasa-1",
        "web-1",
        "haproxy",
    ]
    assert [(r.web_port, r.rasa_port, r.action_port) for r in reps] == [
        (30010, 30011, 30012),
        (30020, 30021, 30022),
    ]
    for kid in kids[:-1]:
        assert kid.env["RASA_URL"] == "http://127.0.0.1:30008"
        assert kid.env["ACTION_SERVER_URL"] == "http://127.0.0.1:30009/webhook"
        assert kid.env["MIGRATE_ON_START"] == "false"
        assert kid.env["DATABASE_URL"] == SHARED.database_url and kid.env["REDIS_URL"] == SHARED.redis_url
    for rep in reps:
        endpoints = yaml.safe_load((tmp_path / f"replica-{rep.index}" / "rasa-endpoints.yml").read_text())
        assert endpoints["action_endpoint"]["url"] == "http://127.0.0.1:30009/webhook"
        assert endpoints["tracker_store"] == {
            "type": "SQL",
            "url": "postgresql://postgres@127.0.0.1:5432/banshi_x",
        }
        assert endpoints["lock_store"]["type"] == "redis" and endpoints["lock_store"]["db"] == 11


def test_generated_haproxy_configuration_is_valid_and_checks_health(tmp_path: Path) -> None:
    cluster_children(SHARED, Path("model.tar.gz"), 3, 30000, tmp_path)
    conf = (tmp_path / "haproxy.cfg").read_text()
    # 3 web apps, 3 Rasa servers, 3 action servers, each health-checked every second
    assert conf.count(" check inter 1s") == 9
    assert "option httpchk GET /healthz/live" in conf and "option httpchk GET /health" in conf
    assert "option redispatch" in conf
    assert "retry-on conn-failure empty-response" in conf  # a request sent to a server just killed
    assert "option http-server-close" in conf  # no idle connection to a server that may be killed
    out = subprocess.run(
        [haproxy_binary(), "-c", "-f", str(tmp_path / "haproxy.cfg")], capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr + out.stdout
