"""One typed settings object, read once from the environment and an optional `.env` file."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlparse

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.timezones import check_timezone
from storage.engine import POOL_SIZE, check_database_url

TOKEN_PATTERN = re.compile(r"^\d{1,20}:[A-Za-z0-9_-]{20,}$")
# Zalo Bot Creator's tokens are `{bot_id}:{access_token}`; the access token goes into every URL.
ZALO_TOKEN_PATTERN = re.compile(r"^\d{1,30}:[A-Za-z0-9._~-]{10,500}$")
SECRET_CHARACTERS = re.compile(r"^[A-Za-z0-9_-]*$")
LANGUAGES = ("vi", "en")


class SettingsError(Exception):
    """A setting that cannot be used; `str()` is one line naming the variable."""


def _check_url(value: str, *, schemes: tuple[str, ...] = ("http", "https")) -> str:
    parsed = urlparse(value)
    if parsed.scheme not in schemes or not parsed.netloc:
        raise ValueError(f"must be an absolute {' or '.join(schemes)} URL, got {value!r}")
    return value


class Settings(BaseSettings):
    """Everything the bot reads from its environment."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    telegram_bot_token: str | None = None
    telegram_api_base_url: str = "https://api.telegram.org/bot"
    database_url: str = "sqlite+aiosqlite:///data/wardbot.sqlite3"
    default_language: str = "vi"
    timezone: str = "Asia/Ho_Chi_Minh"
    ward_config: Path | None = None
    webhook_url: str | None = None
    webhook_secret: str | None = None
    webhook_listen: str = "127.0.0.1"
    webhook_port: int = Field(default=8443, ge=1, le=65535)
    zalo_bot_token: str | None = None
    zalo_api_base_url: str = "https://bot-api.zaloplatforms.com/bot"
    zalo_webhook_url: str | None = None
    zalo_webhook_secret: str | None = None
    zalo_webhook_port: int = Field(default=8444, ge=1, le=65535)
    public_base_url: str | None = None
    web_port: int = Field(default=8080, ge=0, le=65535)  # the ward's web page, on WEBHOOK_LISTEN (0: any)
    web_public_url: str | None = None  # how browsers reach it; default http://127.0.0.1:WEB_PORT
    outbox_lease_seconds: int = Field(default=60, ge=5, le=600)  # a dead worker's sends are retaken after
    # PostgreSQL connections of one worker (up to 1.5× at a peak): workers × 1.5 × this < max_connections
    database_pool_size: int = Field(default=POOL_SIZE, ge=5, le=500)

    @field_validator(
        "telegram_bot_token",
        "webhook_url",
        "webhook_secret",
        "ward_config",
        "zalo_bot_token",
        "zalo_webhook_url",
        "zalo_webhook_secret",
        "public_base_url",
        "web_public_url",
        mode="before",
    )
    @classmethod
    def _blank_is_none(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("telegram_bot_token")
    @classmethod
    def _token_shape(cls, value: str | None) -> str | None:
        if value is not None and not TOKEN_PATTERN.match(value.strip()):
            raise ValueError("does not look like a bot token from @BotFather (digits:secret)")
        return value.strip() if value else value

    @field_validator("telegram_api_base_url", "zalo_api_base_url")
    @classmethod
    def _base_url(cls, value: str) -> str:
        return _check_url(value.strip()).rstrip("/")

    @field_validator("webhook_url", "zalo_webhook_url", "public_base_url", "web_public_url")
    @classmethod
    def _webhook_url(cls, value: str | None) -> str | None:
        return None if value is None else _check_url(value.strip()).rstrip("/")

    @field_validator("zalo_bot_token")
    @classmethod
    def _zalo_token(cls, value: str | None) -> str | None:
        # The message never quotes the value: it is a secret and would end up in logs.
        if value is not None and not ZALO_TOKEN_PATTERN.match(value.strip()):
            raise ValueError(
                "does not look like a token from Zalo Bot Creator (BOT_ID:SECRET: digits, a colon, "
                "then at least 10 letters, digits or - _ . ~)"
            )
        return value.strip() if value else value

    @field_validator("webhook_secret")
    @classmethod
    def _secret_shape(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", value):
            raise ValueError("may hold only A-Z, a-z, 0-9, _ and -, up to 256 characters")
        return value

    @field_validator("zalo_webhook_secret")
    @classmethod
    def _zalo_secret_shape(cls, value: str | None) -> str | None:
        """Checked here because Zalo's setWebhook refuses it otherwise, and only once the bot starts."""
        if value is None:
            return value
        if not 8 <= len(value) <= 256:
            raise ValueError(f"must be 8 to 256 characters long (Zalo refuses others), not {len(value)}")
        if not SECRET_CHARACTERS.match(value):
            raise ValueError("may hold only A-Z, a-z, 0-9, _ and -")
        return value

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str) -> str:
        return check_database_url(value.strip())

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        return check_timezone(value)

    @field_validator("default_language")
    @classmethod
    def _language(cls, value: str) -> str:
        if value not in LANGUAGES:
            raise ValueError(f"must be one of {', '.join(LANGUAGES)}")
        return value

    @model_validator(mode="after")
    def _workers_share_a_webhook_secret(self) -> Settings:
        if (
            self.webhook_url is not None
            and not self.webhook_secret
            and self.database_url.startswith("postgresql")
        ):
            raise ValueError(
                "WEBHOOK_SECRET: required with PostgreSQL and a webhook, so that every worker checks "
                "the same secret (choose 20 or more of A-Z a-z 0-9 _ -)"
            )
        return self

    @model_validator(mode="after")
    def _zalo_webhook_needs_secret(self) -> Settings:
        if self.zalo_webhook_url is not None and not self.zalo_webhook_secret:
            raise ValueError(
                "ZALO_WEBHOOK_SECRET: required when ZALO_WEBHOOK_URL is set (Zalo sends it with every update)"
            )
        return self

    def secrets(self) -> list[str]:
        """What must never appear in a log: the tokens (whole and their secret part) and webhook secrets."""
        found = [self.webhook_secret or "", self.zalo_webhook_secret or ""]
        for token in (self.telegram_bot_token, self.zalo_bot_token):
            if token:
                found += [token, token.partition(":")[2]]
        return [value for value in found if value]

    @property
    def webhook_mode(self) -> bool:
        """Webhook when a public URL is configured, long polling otherwise."""
        return self.webhook_url is not None

    def require_token(self) -> str:
        """The token, or a one-line error naming the variable."""
        if not self.telegram_bot_token and self.zalo_bot_token:
            return ""
        if not self.telegram_bot_token:
            raise SettingsError(
                "TELEGRAM_BOT_TOKEN: not set. Create a bot with @BotFather and put its token "
                "in the environment or in .env (or try `wardbot demo`, which needs none)."
            )
        return self.telegram_bot_token


def load_settings(**overrides: object) -> Settings:
    """Settings from the environment, turning validation errors into one-line `SettingsError`s."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as error:
        first = error.errors()[0]
        message = str(first["msg"]).removeprefix("Value error, ")
        if not first["loc"]:
            raise SettingsError(message) from None
        raise SettingsError(f"{str(first['loc'][0]).upper()}: {message}") from None
