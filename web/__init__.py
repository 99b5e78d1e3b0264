"""The FastAPI web app: citizen chat API and widget, search, health (agent and editor later)."""
