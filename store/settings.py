"""Settings, read once from the environment (and `.env`) and passed down as values.

Nothing else in the code base reads `os.environ`.
"""

from __future__ import annotations

import importlib.util
import re
import sys
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationError, ValidationInfo, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from store.budgets import Budgets, parse_budgets
from store.errors import ConfigError
from store.fairshare import FairPolicy, parse_owner_values
from store.model_limits import ModelLimits, parse_limits
from store.prices import Prices, parse_prices
from store.settings_values import parse_api_keys, split_list

# The platforms a persona has a bio for (actors/jobtypes/personas.py).
PERSONA_PLATFORMS = frozenset({"facebook", "instagram", "x", "tiktok"})


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", frozen=True)

    # --- Where the state lives -------------------------------------------------------------
    database_url: str = "sqlite:///./jobcast.db"
    redis_url: str | None = None
    # Prefix of every Redis key and channel we own; tests use one of their own.
    redis_namespace: str = Field(default="jobcast", alias="JOBCAST_REDIS_NAMESPACE")
    # Where run_job messages wait: Redis (REDIS_URL, the default) or RabbitMQ (RABBITMQ_URL,
    # whose vhost keeps deployments apart). Redis still carries events and live state.
    # Declared in this order: the URL's validator reads the broker (docs/brokers.md).
    broker: Literal["redis", "rabbitmq"] = Field(default="redis", alias="JOBCAST_BROKER")
    rabbitmq_url: str | None = Field(default=None, validate_default=True)

    # --- The model ---------------------------------------------------------------------
    # Declared before `llm`: its validator reads them.
    openai_api_key: str | None = None
    openai_base_url: str | None = None
    llm: Literal["openai", "simulated"] | None = Field(default=None, alias="JOBCAST_LLM")
    model: str | None = Field(default=None, alias="JOBCAST_MODEL")
    # Per-step models: job types ask for a tier; each tier falls back to JOBCAST_MODEL.
    model_small: str | None = Field(default=None, alias="JOBCAST_MODEL_SMALL")
    model_large: str | None = Field(default=None, alias="JOBCAST_MODEL_LARGE")
    # The most model calls one job runs at once when it fans out (batches, items).
    llm_concurrency: int = Field(default=4, alias="JOBCAST_LLM_CONCURRENCY", ge=1, le=64)
    # Seconds: to connect to the model server, and of silence while reading its reply.
    llm_connect_timeout: float = Field(default=10.0, alias="JOBCAST_LLM_CONNECT_TIMEOUT", gt=0)
    llm_read_timeout: float = Field(default=120.0, alias="JOBCAST_LLM_READ_TIMEOUT", gt=0)
    # Some OpenAI-compatible servers reject `stream_options`. How structured calls ask
    # for JSON: `auto` tries json_schema, then json_object with the schema (llama-cpp-
    # python's server), then the prompt alone, as the server refuses each; a fixed value
    # uses that mode only (`off`: the prompt alone). See actors/providers/json_modes.py.
    openai_stream_usage: bool = Field(default=True, alias="JOBCAST_OPENAI_STREAM_USAGE")
    openai_response_format: Literal["auto", "json_schema", "json_object", "off"] = Field(
        default="auto", alias="JOBCAST_OPENAI_RESPONSE_FORMAT"
    )
    # Requests and tokens a minute per provider:model, shared by every worker through
    # Redis: `openai:gpt-4o-mini=rpm:500,tpm:200000;…` (store/model_limits.py). The window
    # the per-minute figures are spread over is 60 s; tests shorten it.
    limits: str = Field(default="", alias="JOBCAST_LIMITS")
    limit_window_s: float = Field(default=60.0, alias="JOBCAST_LIMIT_WINDOW", gt=0, le=3600)

    # --- The simulated model (demos, tests, benchmarks) --------------------------------
    # Seconds to the first token, then tokens per second.
    sim_ttft: float = Field(default=0.4, alias="JOBCAST_SIM_TTFT", ge=0)
    sim_tps: float = Field(default=40.0, alias="JOBCAST_SIM_TPS", gt=0)
    # Same seed and messages, same reply (and same injected failures).
    sim_seed: int = Field(default=0, alias="JOBCAST_SIM_SEED")
    sim_tokens: int | None = Field(default=None, alias="JOBCAST_SIM_TOKENS", ge=1, le=100_000)
    sim_fail_rate: float = Field(default=0.0, alias="JOBCAST_SIM_FAIL_RATE", ge=0, le=1)
    sim_fail_kind: Literal["rate_limit", "server_error", "bad_request"] = Field(
        default="server_error", alias="JOBCAST_SIM_FAIL_KIND"
    )

    # --- Jobs --------------------------------------------------------------------------
    # Extra job-type modules to import after the built-in ones (comma-separated import
    # paths), in web and worker processes alike.
    job_modules: str = Field(default="", alias="JOBCAST_JOB_MODULES")
    # Finished jobs older than this (seconds) are deleted.
    job_ttl: int = Field(default=86400, alias="JOBCAST_JOB_TTL", gt=0)
    # Between attempts: base * 2^(n-1) seconds, jittered to its upper half, at most max.
    retry_base_s: float = Field(default=2.0, alias="JOBCAST_RETRY_BASE", gt=0)
    retry_max_s: float = Field(default=300.0, alias="JOBCAST_RETRY_MAX", gt=0)
    # generate_personas: how names are asked for, and one bio instruction per platform
    # (a JSON object; platforms left out keep their default).
    persona_name_prompt: str = Field(
        default="Give each a realistic first name and last name that fit their background.",
        alias="JOBCAST_PERSONA_NAME_PROMPT",
        min_length=1,
    )
    persona_bio_prompts: dict[str, str] = Field(
        default_factory=dict, alias="JOBCAST_PERSONA_BIO_PROMPTS"
    )

    # --- Worker processes --------------------------------------------------------------
    # How often a worker reports in, and the longest an idle worker waits before looking
    # for new messages again. Each enqueued message also wakes idle workers at once
    # (actors/worker/wakeup.py), so the poll only bounds a lost wake-up; it costs a few
    # Redis commands per second per worker process (Dramatiq's default is 1000 ms).
    worker_heartbeat_s: float = Field(default=5.0, alias="JOBCAST_WORKER_HEARTBEAT", gt=0)
    worker_poll_ms: int = Field(default=1000, alias="JOBCAST_WORKER_POLL_MS", ge=10, le=5000)
    # A running attempt whose worker has not renewed its lease for this long is lost.
    lease_s: float = Field(default=10.0, alias="JOBCAST_LEASE", ge=1)
    # How often each worker looks for lost jobs (one pass cluster-wide per interval).
    reconcile_interval_s: float = Field(default=5.0, alias="JOBCAST_RECONCILE_INTERVAL", gt=0)
    # On SIGTERM a worker lets running jobs finish this long, then hands them back.
    shutdown_grace_s: float = Field(default=8.0, alias="JOBCAST_SHUTDOWN_GRACE", ge=0)

    # --- The web server ----------------------------------------------------------------
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)

    # --- Owners, keys and limits -------------------------------------------------------
    # `owner:key` pairs, comma-separated; unset = no auth (development).
    api_keys: str | None = Field(default=None, alias="JOBCAST_API_KEYS")
    # Owners who may read GET /debug (comma-separated); with keys on, anyone else gets 404.
    admin_owners: str | None = Field(default=None, alias="JOBCAST_ADMIN_OWNERS")
    # Origins allowed to call the API from a browser page on another origin (CORS) and to
    # open the WebSocket; comma-separated, unset = CORS off / no Origin check.
    cors_origins: str | None = Field(default=None, alias="JOBCAST_CORS_ORIGINS")
    ws_origins: str | None = Field(default=None, alias="JOBCAST_WS_ORIGINS")
    # Per owner: submissions (token bucket: `submit_burst` at once, refilled at
    # `submit_rate` a minute), jobs pending/running/retrying, open WebSocket connections.
    submit_rate: int = Field(default=120, alias="JOBCAST_SUBMIT_RATE", ge=1)
    submit_burst: int = Field(default=60, alias="JOBCAST_SUBMIT_BURST", ge=1)
    max_active_jobs: int = Field(default=100, alias="JOBCAST_MAX_ACTIVE_JOBS", ge=1)
    ws_per_owner: int = Field(default=500, alias="JOBCAST_WS_PER_OWNER", ge=1)

    # --- Cost and budgets --------------------------------------------------------------
    # `model=prompt/completion;…`: USD per million tokens (store/prices.py). Unlisted models
    # cost 0. `owner=amount/day|month,…` with `*` for every other owner (store/budgets.py).
    prices: str = Field(default="", alias="JOBCAST_PRICES")
    budgets: str = Field(default="", alias="JOBCAST_BUDGETS")

    # --- Fair share of the workers across owners (store/fairshare.py, docs/fairness.md) --
    # Off: each message runs its own job, in queue order. Weights and running caps per
    # owner, `*` for everyone else: `alice=2,*=1`, `alice=3,*=10` (unset = 1, no cap).
    fair_share: bool = Field(default=False, alias="JOBCAST_FAIR_SHARE")
    owner_weights: str = Field(default="", alias="JOBCAST_OWNER_WEIGHTS")
    max_running: str = Field(default="", alias="JOBCAST_MAX_RUNNING")

    # --- Logs: one line per event, `text` (key=value) or `json` --------------------------
    log_format: Literal["text", "json"] = Field(default="text", alias="JOBCAST_LOG_FORMAT")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = Field(
        default="INFO", alias="JOBCAST_LOG_LEVEL"
    )

    # --- Observability (docs/observability.md) ------------------------------------------
    # prometheus-client reads PROMETHEUS_MULTIPROC_DIR itself when it is imported; it is
    # declared here too so /metrics knows to merge the files every process writes there.
    prometheus_multiproc_dir: str | None = Field(default=None, alias="PROMETHEUS_MULTIPROC_DIR")
    # Each worker host serves its processes' histograms here (unset: not served).
    worker_metrics_port: int | None = Field(
        default=None, alias="JOBCAST_WORKER_METRICS_PORT", ge=1, le=65535
    )
    worker_metrics_host: str = Field(default="0.0.0.0", alias="JOBCAST_WORKER_METRICS_HOST")
    # Traces of each job: off, printed on stdout, or sent over OTLP (its exporter reads
    # the standard OTEL_EXPORTER_OTLP_* variables itself).
    otel: Literal["off", "console", "otlp"] = Field(default="off", alias="JOBCAST_OTEL")

    # --- Checks and derived values -------------------------------------------------------
    @field_validator("owner_weights")
    @classmethod
    def _weights(cls, raw: str) -> str:
        parse_owner_values(raw, float)
        return raw

    @field_validator("max_running")
    @classmethod
    def _caps(cls, raw: str) -> str:
        parse_owner_values(raw, int)
        return raw

    def fair_policy(self) -> FairPolicy:
        weights = parse_owner_values(self.owner_weights, float)
        caps = {owner: int(cap) for owner, cap in parse_owner_values(self.max_running, int).items()}
        return FairPolicy(weights, caps)

    @field_validator("llm")
    @classmethod
    def _openai_needs_a_server(cls, llm: str | None, info: ValidationInfo) -> str | None:
        if llm == "openai" and not (
            info.data.get("openai_api_key") or info.data.get("openai_base_url")
        ):
            raise ValueError("openai needs OPENAI_API_KEY (for api.openai.com) or OPENAI_BASE_URL")
        return llm

    @field_validator("persona_bio_prompts")
    @classmethod
    def _platforms(cls, prompts: dict[str, str]) -> dict[str, str]:
        unknown = sorted(set(prompts) - PERSONA_PLATFORMS)
        if unknown:
            raise ValueError(f"unknown platforms {unknown}; known: {sorted(PERSONA_PLATFORMS)}")
        return prompts

    @field_validator("limits")
    @classmethod
    def _limits(cls, raw: str) -> str:
        parse_limits(raw)  # a mistake here is a start-up error, not a surprise later
        return raw

    @property
    def model_limits(self) -> dict[tuple[str, str], ModelLimits]:
        return parse_limits(self.limits)

    @field_validator("log_format", mode="before")
    @classmethod
    def _lower(cls, raw: object) -> object:
        return raw.strip().lower() if isinstance(raw, str) else raw

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper(cls, raw: object) -> object:
        return raw.strip().upper() if isinstance(raw, str) else raw

    @property
    def job_module_names(self) -> list[str]:
        return [name.strip() for name in self.job_modules.split(",") if name.strip()]

    @field_validator("prices")
    @classmethod
    def _prices(cls, raw: str) -> str:
        parse_prices(raw)  # a mistake here is a start-up error
        return raw

    @field_validator("budgets")
    @classmethod
    def _budgets(cls, raw: str) -> str:
        parse_budgets(raw)
        return raw

    @property
    def price_table(self) -> Prices:
        return parse_prices(self.prices)

    @property
    def budget_table(self) -> Budgets:
        return parse_budgets(self.budgets)

    @field_validator("api_keys")
    @classmethod
    def _key_pairs(cls, raw: str | None) -> str | None:
        parse_api_keys(raw)  # a mistake here is a start-up error, not a 401 later
        return raw or None

    @field_validator("cors_origins", "ws_origins")
    @classmethod
    def _origins(cls, raw: str | None) -> str | None:
        for origin in split_list(raw):
            if origin != "*" and not re.fullmatch(r"https?://[^/\s]+", origin):
                raise ValueError(f"{origin!r} is not an origin like https://app.example.com")
        return raw or None

    @property
    def api_key_pairs(self) -> list[tuple[str, str]]:
        return parse_api_keys(self.api_keys)

    @property
    def admin_owner_set(self) -> frozenset[str]:
        return frozenset(split_list(self.admin_owners))

    @property
    def cors_origin_list(self) -> list[str]:
        return split_list(self.cors_origins)

    @property
    def ws_origin_list(self) -> list[str]:
        return split_list(self.ws_origins)

    @field_validator("database_url")
    @classmethod
    def _known_database(cls, url: str) -> str:
        scheme = url.split(":", 1)[0]
        if scheme.startswith("postgres"):
            # Users paste `postgres://` or `postgresql://`; we ship the psycopg 3 driver.
            rest = url.split("://", 1)[1] if "://" in url else ""
            return f"postgresql+psycopg://{rest}"
        if scheme.startswith("sqlite"):
            return url
        raise ValueError(f"unsupported database {scheme!r}: use sqlite:/// or postgresql://")

    @field_validator("redis_url")
    @classmethod
    def _redis_scheme(cls, url: str | None) -> str | None:
        if url is not None and not url.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("must start with redis://, rediss:// or unix://")
        return url or None

    @field_validator("broker", mode="before")
    @classmethod
    def _broker_name(cls, raw: object) -> object:
        return raw.strip().lower() if isinstance(raw, str) else raw

    @field_validator("rabbitmq_url")
    @classmethod
    def _rabbitmq_url(cls, url: str | None, info: ValidationInfo) -> str | None:
        if url and not url.startswith(("amqp://", "amqps://")):
            raise ValueError("must start with amqp:// or amqps://")
        if not url and info.data.get("broker") == "rabbitmq":
            raise ValueError(
                "must be set when JOBCAST_BROKER=rabbitmq (amqp://user:pass@host/vhost)"
            )
        return url or None

    @model_validator(mode="after")
    def _pick_provider(self) -> Settings:
        if self.llm is None:
            uses_openai = bool(self.openai_api_key or self.openai_base_url)
            object.__setattr__(self, "llm", "openai" if uses_openai else "simulated")
        return self

    @field_validator("otel")
    @classmethod
    def _otel_installed(cls, mode: str) -> str:
        needs = {"console": "opentelemetry-sdk", "otlp": "opentelemetry-exporter-otlp-proto-http"}
        if mode in needs and not _installed(needs[mode].replace("-", ".")):
            raise ValueError(f"{mode} needs {needs[mode]} installed (docs/observability.md)")
        if mode == "otlp" and not _installed("opentelemetry.sdk"):
            raise ValueError("otlp needs opentelemetry-sdk installed (docs/observability.md)")
        return mode

    @model_validator(mode="after")
    def _metrics_dir(self) -> Settings:
        directory = self.prometheus_multiproc_dir
        if directory is not None and not Path(directory).is_dir():
            raise ValueError(f"PROMETHEUS_MULTIPROC_DIR {directory!r} is not a directory")
        if self.worker_metrics_port is not None and directory is None:
            raise ValueError(
                "JOBCAST_WORKER_METRICS_PORT needs PROMETHEUS_MULTIPROC_DIR (a directory the "
                "worker processes of this host share)"
            )
        return self

    @property
    def provider(self) -> str:
        return self.llm or "simulated"


def _installed(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:  # a parent package is missing
        return False


def _describe(error: ValidationError) -> str:
    first = error.errors()[0]
    # `loc` holds the alias (JOBCAST_…) where a field has one, else the field name.
    env_name = ".".join(str(part) for part in first["loc"]).upper() or "settings"
    return f"{env_name}: {first['msg']}"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The one Settings instance of this process."""
    try:
        return Settings()
    except ValidationError as error:
        raise ConfigError(_describe(error)) from None


def settings_or_exit() -> Settings:
    """Settings for a process entry point: a mistake is one line on stderr and exit 2."""
    try:
        return get_settings()
    except ConfigError as error:
        print(f"jobcast: configuration error: {error}", file=sys.stderr)
        raise SystemExit(2) from None
