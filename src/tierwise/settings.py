"""The one settings object. Every value can be set with a ``TIERWISE_`` environment variable.

>>> Settings(data_dir=Path("/tmp/tw"), mode="dev").store_url
'sqlite:////tmp/tw/tierwise.db'
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from tierwise.errors import ConfigError

if TYPE_CHECKING:
    from tierwise.act._mail import Security, SmtpSettings

DEFAULT_SECRET_KEY = "change-me-tierwise-dev-secret"

Mode = Literal["production", "dev", "demo"]
EngineName = Literal["duckdb", "postgres", "spark"]


class Settings(BaseSettings):
    """Tierwise configuration (environment prefix ``TIERWISE_``, also read from ``.env``)."""

    model_config = SettingsConfigDict(env_prefix="TIERWISE_", env_file=".env", extra="ignore")

    mode: Mode = Field(
        "production",
        description="production refuses unsafe defaults; dev and demo allow them.",
    )
    data_dir: Path = Field(
        Path("tierwise-data"),
        description="Holds the SQLite database, the DuckDB analytic copy and exports.",
    )
    database_url: str | None = Field(
        None,
        description="SQLAlchemy URL of the store; default: SQLite file in the data directory.",
    )
    engine: EngineName = Field("duckdb", description="Analytics engine: duckdb, postgres or spark.")
    secret_key: str | None = Field(
        None,
        description=(
            "Signs sessions and tokens. Default: the key `tierwise init` writes to "
            "DATA_DIR/secret.key; in production mode a missing or built-in key is refused."
        ),
    )
    language: Literal["zh", "en"] = Field("zh", description="Default language of messages.")
    import_batch_size: int = Field(
        50_000, ge=100, le=1_000_000, description="Rows per committed import batch."
    )
    host: str = Field("127.0.0.1", description="Address `tierwise serve` listens on.")
    port: int = Field(8000, ge=1, le=65535, description="Port `tierwise serve` listens on.")
    web_threads: int = Field(
        4,
        ge=1,
        le=256,
        description=(
            "Threads per web worker for the requests' blocking work (the database). One process "
            "runs Python one thread at a time: more threads only contend for it (bench/README.md)."
        ),
    )
    https: bool = Field(
        False, description="Served over https (behind a proxy): session cookies get `Secure`."
    )
    session_idle_minutes: int = Field(
        30, ge=1, le=24 * 60, description="A session ends after this long without a request."
    )
    session_max_hours: int = Field(
        12, ge=1, le=24 * 30, description="A session ends this long after sign-in, in any case."
    )
    login_max_failures: int = Field(
        5, ge=1, le=1000, description="Failed sign-ins per user name (x4 per address) per window."
    )
    login_window_minutes: int = Field(
        15, ge=1, le=24 * 60, description="The window of `login_max_failures`."
    )
    max_upload_mb: int = Field(200, ge=1, le=10_000, description="Largest accepted upload.")
    smtp_host: str | None = Field(
        None, description="SMTP server for the reps' daily email digests; unset: no digests."
    )
    smtp_port: int | None = Field(
        None, ge=1, le=65535, description="SMTP port; default 465 with SSL, else 587."
    )
    smtp_user: str | None = Field(None, description="SMTP login (none: no login).")
    smtp_password: SecretStr | None = Field(None, description="SMTP password.")
    smtp_from: str = Field("tierwise@localhost", description="Sender address of the digests.")
    smtp_starttls: bool = Field(
        True, description="Upgrade the SMTP connection with STARTTLS (port 587)."
    )
    smtp_ssl: bool = Field(
        False, description="Implicit TLS from the first byte (port 465); STARTTLS is then unused."
    )

    @model_validator(mode="after")
    def _refuse_unsafe(self) -> Settings:
        if self.mode == "production" and self.secret_key is not None:
            if self.secret_key == DEFAULT_SECRET_KEY:
                raise ValueError(
                    "TIERWISE_SECRET_KEY is the built-in development key. Set it to a random value "
                    "of 32+ characters (python -c 'import secrets; print(secrets.token_urlsafe(48))'), "
                    "or set TIERWISE_MODE=dev for local experiments."
                )
            if len(self.secret_key) < 32:
                raise ValueError(
                    f"TIERWISE_SECRET_KEY has {len(self.secret_key)} characters; "
                    "use at least 32 in production mode."
                )
        if self.smtp_host is not None and not self.smtp_host.strip():
            raise ValueError("TIERWISE_SMTP_HOST is empty: name the SMTP server, or unset it.")
        if "@" not in self.smtp_from:
            raise ValueError(
                f"TIERWISE_SMTP_FROM {self.smtp_from!r} is not an email address (name@host)."
            )
        return self

    def smtp(self) -> SmtpSettings | None:
        """Where the digests go out, or None when ``TIERWISE_SMTP_HOST`` is not set."""
        from tierwise.act._mail import SmtpSettings

        if not self.smtp_host:
            return None
        security: Security = (
            "ssl" if self.smtp_ssl else "starttls" if self.smtp_starttls else "none"
        )
        return SmtpSettings(
            host=self.smtp_host.strip(),
            port=self.smtp_port or (465 if self.smtp_ssl else 587),
            security=security,
            user=self.smtp_user or None,
            password=self.smtp_password.get_secret_value() if self.smtp_password else None,
            sender=self.smtp_from,
        )

    @property
    def secret_key_file(self) -> Path:
        return self.data_dir / "secret.key"

    def require_secret_key(self) -> str:
        """The key that signs sessions; refuses to run production on a missing or default key."""
        if self.secret_key:
            return self.secret_key
        if self.secret_key_file.exists():
            key = self.secret_key_file.read_text(encoding="ascii").strip()
            if len(key) >= 32:
                return key
        if self.mode in ("dev", "demo"):
            return DEFAULT_SECRET_KEY
        raise ConfigError(
            f"No secret key: set TIERWISE_SECRET_KEY or run `tierwise init`, which writes "
            f"{self.secret_key_file}. (TIERWISE_MODE=dev uses a built-in key for experiments.)"
        )

    @property
    def store_url(self) -> str:
        """The store's SQLAlchemy URL (the configured one, else SQLite in the data directory)."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.data_dir.resolve() / 'tierwise.db'}"


def load_settings(**overrides: object) -> Settings:
    """Settings from the environment, with a ConfigError that says which variable is wrong."""
    from pydantic import ValidationError

    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'settings'}: {e['msg']}" for e in exc.errors()
        )
        raise ConfigError(f"Invalid Tierwise settings: {problems}") from None


__all__ = ["DEFAULT_SECRET_KEY", "Settings", "load_settings"]
