"""The ASGI app for uvicorn: ``uvicorn web.main:app``."""

from core.logging import configure_logging
from web.app import create_app

configure_logging()
app = create_app()
