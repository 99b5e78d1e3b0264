"""Deployment artefacts: the compose file passes ``docker-compose config``, the Kubernetes manifests pass
the Kubernetes schema (kubernetes-validate, strict), and both agree with the code they start."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from core.settings import ROOT, Settings
from ops.endpoints import endpoints, lock_store, rasa_database_url

DEPLOY = ROOT / "deploy"
K8S = DEPLOY / "k8s"
KUBERNETES_VERSION = "1.30.0"
SECRETS = {"POSTGRES_PASSWORD": "p", "RASA_TOKEN": "t", "SESSION_SECRET": "s", "DEMO_PASSWORD": "d"}


def _documents() -> list[tuple[Path, dict[str, Any]]]:
    docs = []
    for path in sorted(K8S.glob("*.yaml")):
        if path.name == "kustomization.yaml":
            continue
        docs += [(path, d) for d in yaml.safe_load_all(path.read_text(encoding="utf-8")) if d]
    return docs


def test_compose_file_is_valid_for_docker_compose() -> None:
    binary = shutil.which("docker-compose")
    assert binary, "docker-compose is missing: run scripts/system-deps.sh (Debian package docker-compose)"
    env = {**os.environ, **SECRETS}
    out = subprocess.run(
        [binary, "-f", str(DEPLOY / "compose.yml"), "config"], env=env, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    services = yaml.safe_load(out.stdout)["services"]
    assert {"web", "rasa", "actions", "postgres", "redis", "nginx", "migrate"} <= set(services)


def test_compose_refuses_to_start_without_the_secrets() -> None:
    binary = shutil.which("docker-compose")
    assert binary
    env = {k: v for k, v in os.environ.items() if k not in SECRETS}
    out = subprocess.run([binary, "-f", str(DEPLOY / "compose.yml"), "config"], env=env, capture_output=True)
    assert out.returncode != 0


@pytest.mark.parametrize(("path", "doc"), _documents(), ids=lambda v: v.name if isinstance(v, Path) else "")
def test_manifest_matches_the_kubernetes_schema(path: Path, doc: dict[str, Any]) -> None:
    kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)


def test_kustomization_lists_every_manifest() -> None:
    listed = set(yaml.safe_load((K8S / "kustomization.yaml").read_text())["resources"])
    assert listed == {p.name for p in K8S.glob("*.yaml")} - {"kustomization.yaml"}


def test_manifests_have_probes_a_migration_job_and_known_settings() -> None:
    docs = [d for _, d in _documents()]
    kinds = {d["kind"] for d in docs}
    assert {"Deployment", "Service", "Ingress", "Job", "ConfigMap", "Secret"} <= kinds
    for d in docs:
        if d["kind"] != "Deployment":
            continue
        for c in d["spec"]["template"]["spec"]["containers"]:
            assert c.get("livenessProbe") and c.get("readinessProbe"), d["metadata"]["name"]
    web = next(d for d in docs if d["metadata"]["name"] == "banshi-web" and d["kind"] == "Deployment")
    probes = web["spec"]["template"]["spec"]["containers"][0]
    assert probes["livenessProbe"]["httpGet"]["path"].startswith("/healthz")
    assert probes["readinessProbe"]["httpGet"]["path"].startswith("/healthz")
    job = next(d for d in docs if d["kind"] == "Job")
    assert job["spec"]["template"]["spec"]["containers"][0]["command"] == ["python", "-m", "ops.migrate"]
    settings = {name.upper() for name in Settings.model_fields}
    rasa_only = {"RASA_TRACKER_DB_URL", "REDIS_HOST"}  # read by deploy/rasa-endpoints.yml
    for d in docs:
        if d["kind"] in ("ConfigMap", "Secret"):
            keys = set(d.get("data") or {}) | set(d.get("stringData") or {})
            assert keys - rasa_only <= settings, keys - rasa_only - settings


def test_web_routes_used_by_the_probes_exist() -> None:
    from web.routes.health import router

    paths = {getattr(r, "path", "") for r in router.routes}
    assert {"/healthz", "/healthz/live", "/healthz/ready"} <= paths


def test_rasa_endpoints_use_the_apps_database_and_redis() -> None:
    assert rasa_database_url("sqlite:////var/x.db") == "sqlite:////var/x.db"
    assert rasa_database_url("sqlite:///./var/x.db") == f"sqlite:///{Path('var/x.db').resolve()}"
    assert rasa_database_url("postgresql+psycopg://u:p@h:5432/d") == "postgresql://u:p@h:5432/d"
    assert lock_store("") is None
    assert lock_store("redis://:pw@cache:6380/3") == {
        "type": "redis",
        "url": "cache",
        "port": 6380,
        "db": 3,
        "key_prefix": "banshi",
        "use_ssl": False,
        "password": "pw",
    }
    local = endpoints(Settings(database_url="sqlite:////tmp/a.db", redis_url=""))
    assert local["tracker_store"] == {"type": "SQL", "url": "sqlite:////tmp/a.db"}
    assert "lock_store" not in local
    shared = yaml.safe_load((DEPLOY / "rasa-endpoints.yml").read_text())
    assert shared["tracker_store"]["type"] == "SQL" and shared["lock_store"]["type"] == "redis"
