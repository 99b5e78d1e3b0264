"""The FastAPI web app: the citizens' chat API and widget, search, guides, the agent console, the
editor and review workflow, staff sign-in, and health."""
