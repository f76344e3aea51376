"""Typed settings read from the environment (``RAPPORT_<SECTION>__<FIELD>``).

The same variable names drive the local stack (``deploy/stack.env``) and
``docker-compose.yml``, so both describe one configuration.
"""

import json
from functools import lru_cache
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from sqlalchemy.engine import URL

DEVELOPMENT_JWT_SECRET = "development-only-jwt-secret-never-use-in-production"  # noqa: S105
DEVELOPMENT_GRAPH_SERVICE_TOKEN = "development-only-graph-token-never-use-in-production"  # noqa: S105
DEVELOPMENT_ADDRESS_KEY = "development-only-address-key-never-use-in-production"
DEVELOPMENT_LINK_KEY = "development-only-link-key-never-use-in-production"
DEVELOPMENT_WEBHOOK_KEY = "development-only-webhook-key-never-use-in-production"
PLACEHOLDER_SECRETS = frozenset(
    {
        DEVELOPMENT_JWT_SECRET,
        DEVELOPMENT_GRAPH_SERVICE_TOKEN,
        DEVELOPMENT_ADDRESS_KEY,
        DEVELOPMENT_LINK_KEY,
        DEVELOPMENT_WEBHOOK_KEY,
        "change-me",
        "rapport",
        "secret",
        "",
    }
)
# How far a rating must fade before a nudge, for a member who has not chosen: the
# notifier's setting, the stored preference and the API's form all start from it.
DEFAULT_NUDGE_FADE = 2.0


def _comma_list(value: object) -> object:
    """``"a:1,b:2"`` or ``["a:1","b:2"]`` (how an environment variable gives a list), or
    a list."""
    if isinstance(value, str) and value.lstrip().startswith("["):
        return json.loads(value)
    if isinstance(value, str):
        return [item.strip() for item in value.split(",") if item.strip()]
    return value


def _host_and_port(server: str) -> tuple[str, int]:
    host, separator, port = server.rpartition(":")
    if not separator or not host or not port.isdigit():
        raise ValueError(f"expected host:port, got {server!r}")
    return host.strip("[]"), int(port)


ServerList = Annotated[list[str], NoDecode, BeforeValidator(_comma_list)]
KeyList = Annotated[list[SecretStr], NoDecode, BeforeValidator(_comma_list)]


class PostgresSettings(BaseModel):
    host: str = "127.0.0.1"
    port: int = 5432
    # Several servers (a primary and its standbys, "host:port" each, comma-separated in
    # RAPPORT_POSTGRES__HOSTS); when set, host and port are ignored. Every connection
    # tries them in order and keeps the first that matches target_session_attrs, so after
    # a standby is promoted new connections find it by themselves (docs/operations.md).
    hosts: ServerList = []
    # read-write: never settle on a standby, whose every write would fail.
    target_session_attrs: Literal[
        "any", "primary", "standby", "prefer-standby", "read-write", "read-only"
    ] = "read-write"
    user: str = "rapport"
    password: SecretStr = SecretStr("rapport")
    database: str = "rapport"
    # Per process: at most pool_size + max_overflow connections. Two API workers and the
    # notifier then hold at most 60 of PostgreSQL's default 100, leaving room for the
    # CLI, migrations and a third worker; past 20 open transactions a request waits.
    pool_size: int = 10
    max_overflow: int = 10

    @field_validator("hosts")
    @classmethod
    def _valid_servers(cls, servers: list[str]) -> list[str]:
        for server in servers:
            _host_and_port(server)
        return servers

    @property
    def servers(self) -> list[tuple[str, int]]:
        """Every server to try, in order."""
        if self.hosts:
            return [_host_and_port(server) for server in self.hosts]
        return [(self.host, self.port)]

    def url(self, database: str | None = None) -> str:
        """SQLAlchemy URL for asyncpg; ``database`` overrides the configured one. Several
        servers go in the query (``?host=a:1&host=b:2``), as SQLAlchemy's asyncpg dialect
        takes them."""
        query: dict[str, str | list[str]] = {"target_session_attrs": self.target_session_attrs}
        host: str | None = self.host
        port: int | None = self.port
        if self.hosts:
            host = port = None
            query["host"] = [f"{name}:{number}" for name, number in self.servers]
        return URL.create(
            "postgresql+asyncpg",
            username=self.user,
            password=self.password.get_secret_value(),
            host=host,
            port=port,
            database=database or self.database,
            query=query,
        ).render_as_string(hide_password=False)

    def connect_arguments(self, database: str | None = None) -> dict[str, Any]:
        """Keyword arguments of ``asyncpg.connect`` for a connection of its own (LISTEN)."""
        servers = self.servers
        return {
            "host": [name for name, _ in servers],
            "port": [number for _, number in servers],
            "user": self.user,
            "password": self.password.get_secret_value(),
            "database": database or self.database,
            "target_session_attrs": self.target_session_attrs,
        }

    @property
    def address(self) -> str:
        return ",".join(f"{name}:{number}" for name, number in self.servers)


class RedisSettings(BaseModel):
    host: str = "127.0.0.1"
    port: int = 6379
    database: int = 0
    # Redis Sentinel: "host:port" of each Sentinel (comma-separated in
    # RAPPORT_REDIS__SENTINELS). When set, host and port are ignored: the clients ask the
    # Sentinels for sentinel_master's current primary, and ask again after a failover.
    sentinels: ServerList = []
    sentinel_master: str = "rapport"

    @field_validator("sentinels")
    @classmethod
    def _valid_sentinels(cls, sentinels: list[str]) -> list[str]:
        for server in sentinels:
            _host_and_port(server)
        return sentinels

    @property
    def sentinel_addresses(self) -> list[tuple[str, int]]:
        return [_host_and_port(server) for server in self.sentinels]

    @property
    def address(self) -> str:
        if self.sentinels:
            return f"{self.sentinel_master} via sentinels {','.join(self.sentinels)}"
        return f"{self.host}:{self.port}"


# Direct (bolt) or routing (neo4j: a cluster's members, reads sent to secondaries);
# +s verifies TLS, +ssc accepts a self-signed certificate.
NEO4J_SCHEMES = ("bolt", "bolt+s", "bolt+ssc", "neo4j", "neo4j+s", "neo4j+ssc")


class Neo4jSettings(BaseModel):
    uri: str = "bolt://127.0.0.1:7687"
    user: str | None = None
    password: SecretStr | None = None
    database: str = "neo4j"
    query_timeout_seconds: float = 5.0

    @field_validator("uri")
    @classmethod
    def _known_scheme(cls, uri: str) -> str:
        scheme = uri.partition("://")[0]
        if scheme not in NEO4J_SCHEMES:
            raise ValueError(f"the Neo4j URI's scheme must be one of {', '.join(NEO4J_SCHEMES)}")
        return uri


class SmtpSettings(BaseModel):
    host: str = "127.0.0.1"
    port: int = 1025
    sender: str = "Rapport <no-reply@rapport.example>"
    timeout_seconds: float = 10.0


class GraphServiceSettings(BaseModel):
    url: str = "http://127.0.0.1:8001"
    port: int = 8001
    # Processes serving the graph service; path scoring is Python, so one per core.
    workers: int = 2
    timeout_seconds: float = 5.0
    # The shared secret the API and the notifier present (as a bearer token) on every
    # internal route; only /livez and /readyz answer without it.
    service_token: SecretStr = SecretStr(DEVELOPMENT_GRAPH_SERVICE_TOKEN)

    def auth_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.service_token.get_secret_value()}"}


class NotifierSettings(BaseModel):
    # The worker's health endpoints (/livez, /readyz, /metrics) listen here. Loopback by
    # default; a container sets 0.0.0.0 so probes and Prometheus can reach them.
    bind: str = "127.0.0.1"
    port: int = 8002


class ApiSettings(BaseModel):
    port: int = 8000
    # Processes serving the API; one per core uses the machine (the app is stateless).
    workers: int = 2
    cors_origins: list[str] = ["http://localhost:3000"]
    public_url: str = "http://127.0.0.1:8000"
    # Larger request bodies are refused with 413 before they are read. The largest valid
    # input, a policy of 50 rules written in \u escapes, stays under 700 KiB.
    max_body_bytes: int = 1024 * 1024


class WebSettings(BaseModel):
    """The web app members use: the buttons in emails open its pages (the invitation,
    the question, the introduction, the connection), never the API or its docs. The
    paths are services/notifier/notifications/links.py's; a link carries ids only, no
    credential: the page asks the member to sign in."""

    app_url: str = "http://localhost:3000"


class AuthSettings(BaseModel):
    jwt_secret: SecretStr = SecretStr(DEVELOPMENT_JWT_SECRET)
    access_token_minutes: int = 15
    refresh_token_days: int = 30
    # Sign-in throttling: failed sign-ins counted per account (the email tried) and per
    # client address (an IPv6 client by its /64) over a sliding window.
    sign_in_window_minutes: int = 15
    sign_in_failures_per_account: int = 10
    sign_in_failures_per_address: int = 10


class MailboxSettings(BaseModel):
    """The development SMTP catcher: where it keeps messages and serves them."""

    bind: str = "127.0.0.1"
    port: int = 8025
    folder: str = ".local/dev/mail"


class InvitationSettings(BaseModel):
    weekly_limit: int = 100
    pending_cap: int = 200
    reinvite_block_days: int = 21
    question_expiry_days: float = 14.0
    # Throttling: among an inviter's recent decided invitations, when at least
    # ``throttle_min_decided`` are known and the share declined, reported or with a
    # denied/false referral reaches ``throttle_negative_share``, the weekly limit
    # drops to ``throttled_weekly_limit``.
    throttle_window_days: int = 30
    throttle_min_decided: int = 10
    throttle_negative_share: float = 0.6
    throttled_weekly_limit: int = 5


class SearchSettings(BaseModel):
    # Per member per UTC day, against scraping (docs/search.md).
    daily_limit: int = 200
    # The most matches one query ranks and pages through.
    max_results: int = 500


class WebhookSettings(BaseModel):
    # Loopback receivers are for local development and tests; refused in production.
    allow_loopback: bool = False
    timeout_seconds: float = 15.0
    # Delay before each retry (Standard Webhooks' suggested schedule, about 28 hours).
    retry_schedule_seconds: list[int] = [5, 300, 1800, 7200, 18000, 36000, 36000]
    disable_after_days: float = 5.0
    # After a rotation the previous secret keeps signing alongside the new one this long.
    rotation_grace_hours: float = 24.0
    # Seal the endpoints' signing secrets at rest: the first seals, all open
    # (rapport_common/webhooks/sealing.py; rotating them: docs/operations.md).
    secret_keys: KeyList = [SecretStr(DEVELOPMENT_WEBHOOK_KEY)]

    @field_validator("secret_keys")
    @classmethod
    def _some_key(cls, keys: list[SecretStr]) -> list[SecretStr]:
        if not keys:
            raise ValueError("at least one key is needed to seal webhook secrets")
        return keys


class EmailInvitationSettings(BaseModel):
    """Invitations by email address (docs/privacy.md, "Email addresses")."""

    # Keys the hash every address is stored and looked up by (the do-not-contact list
    # among them). Never rotate it: the stored hashes would stop matching.
    address_key: SecretStr = SecretStr(DEVELOPMENT_ADDRESS_KEY)
    # Signs the join and stop links; rotating it breaks the links already sent.
    link_key: SecretStr = SecretStr(DEVELOPMENT_LINK_KEY)
    # A join link works this long; the invitation counts as open in the sender's limits
    # until then.
    link_days: int = 30
    # One address gets at most one join email in this many days, from all senders.
    per_address_days: int = 30
    # ``{public}`` is api.public_url; a front end may put its own pages here.
    join_url: str = "{public}/v1/join/{token}"
    stop_url: str = "{public}/v1/do-not-contact/{token}"


class AccountSettings(BaseModel):
    """Account emails (README, "Your account"): where their links point, how long they
    work, and how often they may be asked for."""

    # The links open pages under ``<link_base>/account/...``; None: api.public_url. A
    # front end serving its own pages at those paths puts its address here.
    link_base: str | None = None
    verification_hours: int = 48
    reset_minutes: int = 30
    email_change_hours: int = 24
    # How long the old address may undo an email change.
    undo_days: int = 7
    # Verification emails one member may ask to be sent again per window.
    resends_per_window: int = 3
    # Reset emails asked for one address, and from one client address, per window.
    resets_per_address: int = 3
    resets_per_client: int = 20
    request_window_minutes: int = 60


class NotificationSettings(BaseModel):
    # The links in every email, ``{public}`` being api.public_url and ``{token}`` a signed
    # token naming the member and the kind of message (docs/notifications.md). The
    # unsubscribe link (List-Unsubscribe, RFC 8058) takes the one-click POST; the
    # settings link is the footer's, by default the API's own small page for that kind;
    # a web app may put its preferences page here instead.
    unsubscribe_url: str = "{public}/v1/email-preferences/{token}"
    settings_url: str = "{public}/v1/email-preferences/{token}"
    # The daily digest goes at the first run of its cron at or after this hour, in the
    # member's time zone.
    digest_hour: int = Field(default=8, ge=0, le=23)
    nudge_cooldown_days: int = 30
    nudge_min_rating: int = 7
    nudge_default_fade: float = DEFAULT_NUDGE_FADE


class ExportSettings(BaseModel):
    """A member's copy of their data (docs/privacy.md, "Export")."""

    # Requests per member in any 24 hours; a request while one is being built returns it.
    daily_limit: int = 3
    # The archive can be downloaded this long after it is ready, then it is deleted.
    link_days: int = 7
    # ``{public}`` is api.public_url; the token is signed with email_invitations.link_key.
    download_url: str = "{public}/v1/me/exports/{export_id}/download?token={token}"


class StrengthSettings(BaseModel):
    """The strength model (README, "Strength"): ratings fade with a half-life."""

    half_life_days: float = 180.0
    # A side that has not rated yet counts as this neutral rating, so strength never
    # hints at the other side's private rating.
    unrated_rating: int = 5


class RecommendationSettings(BaseModel):
    """What a recommendation needs (docs/privacy.md, "Recommendations"): a connection at
    least this old, rated at least this by the author, and a meeting in person."""

    min_days: int = 90
    min_rating: int = 7


class WorkerSettings(BaseModel):
    job_timeout_seconds: float = 60.0
    max_tries: int = 8
    # How often an idle worker polls Redis for queued jobs.
    poll_delay_seconds: float = 0.1
    max_jobs: int = 20


class OutboxSettings(BaseModel):
    poll_interval_seconds: float = 2.0
    batch_size: int = 100
    reconcile_after_seconds: float = 300.0


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="RAPPORT_", env_nested_delimiter="__", extra="ignore"
    )

    environment: Literal["development", "test", "production"] = "development"
    log_level: str = "INFO"
    postgres: PostgresSettings = PostgresSettings()
    redis: RedisSettings = RedisSettings()
    neo4j: Neo4jSettings = Neo4jSettings()
    smtp: SmtpSettings = SmtpSettings()
    graph: GraphServiceSettings = GraphServiceSettings()
    api: ApiSettings = ApiSettings()
    web: WebSettings = WebSettings()
    notifier: NotifierSettings = NotifierSettings()
    auth: AuthSettings = AuthSettings()
    mailbox: MailboxSettings = MailboxSettings()
    outbox: OutboxSettings = OutboxSettings()
    worker: WorkerSettings = WorkerSettings()
    strength: StrengthSettings = StrengthSettings()
    recommendations: RecommendationSettings = RecommendationSettings()
    invitations: InvitationSettings = InvitationSettings()
    search: SearchSettings = SearchSettings()
    webhooks: WebhookSettings = WebhookSettings()
    email_invitations: EmailInvitationSettings = EmailInvitationSettings()
    notifications: NotificationSettings = NotificationSettings()
    accounts: AccountSettings = AccountSettings()
    exports: ExportSettings = ExportSettings()

    @model_validator(mode="after")
    def _refuse_placeholder_secrets_in_production(self) -> "Settings":
        if self.environment != "production":
            return self
        weak = []
        jwt_secret = self.auth.jwt_secret.get_secret_value()
        if jwt_secret in PLACEHOLDER_SECRETS or len(jwt_secret) < 32:
            weak.append("RAPPORT_AUTH__JWT_SECRET")
        if self.postgres.password.get_secret_value() in PLACEHOLDER_SECRETS:
            weak.append("RAPPORT_POSTGRES__PASSWORD")
        service_token = self.graph.service_token.get_secret_value()
        if service_token in PLACEHOLDER_SECRETS or len(service_token) < 32:
            weak.append("RAPPORT_GRAPH__SERVICE_TOKEN")
        for name, key in (
            ("EMAIL_INVITATIONS__ADDRESS_KEY", self.email_invitations.address_key),
            ("EMAIL_INVITATIONS__LINK_KEY", self.email_invitations.link_key),
            *(("WEBHOOKS__SECRET_KEYS", key) for key in self.webhooks.secret_keys),
        ):
            if key.get_secret_value() in PLACEHOLDER_SECRETS or len(key.get_secret_value()) < 32:
                weak.append(f"RAPPORT_{name}")
        if weak:
            raise ValueError(f"placeholder secrets are refused in production: {', '.join(weak)}")
        if self.webhooks.allow_loopback:
            raise ValueError("RAPPORT_WEBHOOKS__ALLOW_LOOPBACK is for development and tests only")
        return self


@lru_cache
def get_settings() -> Settings:
    return Settings()
