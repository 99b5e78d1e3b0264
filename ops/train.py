"""Train the Rasa model only when the content of ``bot/`` changed (content hash)."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

from core.settings import ROOT
from embeddings import onnx_export

BOT = ROOT / "bot"
MODEL_DIR = ROOT / "var" / "models"
MODEL = MODEL_DIR / "banshi.tar.gz"
HASH_FILE = MODEL_DIR / "bot.sha256"
RASA = ROOT / ".venv-rasa" / "bin" / "rasa"
SKIP = {"models", ".rasa", "results", "__pycache__", "endpoints.yml", "credentials.yml"}


def bot_hash() -> str:
    digest = hashlib.sha256()
    for path in sorted(BOT.rglob("*")):
        rel = path.relative_to(BOT)
        if path.is_file() and not (set(rel.parts) & SKIP) and rel.parts[0] != "tests":
            digest.update(str(rel).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def ensure_model(force: bool = False) -> Path:
    """The trained Rasa model, (re)trained when ``bot/`` changed; first the e5 ONNX export that Rasa's
    featurizer and the action server's query encoder run on (``embeddings.onnx_export``)."""
    onnx_export.ensure()
    want = bot_hash()
    if not force and MODEL.exists() and HASH_FILE.exists() and HASH_FILE.read_text().strip() == want:
        print(f"==> Rasa model is up to date ({MODEL.relative_to(ROOT)})")
        return MODEL
    log = ROOT / "var" / "logs" / "train.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    print(f"==> training the Rasa model (bot/ changed; log: {log.relative_to(ROOT)})", flush=True)
    MODEL_DIR.mkdir(parents=True, exist_ok=True)
    with log.open("wb") as out:
        done = subprocess.run(
            [
                str(RASA),
                "train",
                "--domain",
                "domain",
                "--fixed-model-name",
                "banshi",
                "--out",
                str(MODEL_DIR),
            ],
            cwd=BOT,
            env={**os.environ, "RASA_TELEMETRY_ENABLED": "false"},
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    if done.returncode != 0:
        tail = log.read_text(errors="replace").splitlines()[-30:]
        raise SystemExit("rasa train failed:\n" + "\n".join(tail))
    HASH_FILE.write_text(want)
    return MODEL


if __name__ == "__main__":
    ensure_model(force="--force" in sys.argv)
