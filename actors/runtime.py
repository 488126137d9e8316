"""The worker process's long-lived objects, built once on first use."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from actors.llm import LLMSetup, ModelTiers
from actors.providers import make_provider
from store.backends import Backends, connect
from store.settings import Settings, get_settings


@dataclass(frozen=True)
class Runtime:
    backends: Backends
    llm: LLMSetup


def llm_setup(settings: Settings) -> LLMSetup:
    provider = make_provider(settings)
    default = settings.model or provider.default_model
    models = ModelTiers(
        default=default,
        small=settings.model_small or default,
        large=settings.model_large or default,
    )
    return LLMSetup(provider, models, concurrency=settings.llm_concurrency)


@lru_cache(maxsize=1)
def runtime() -> Runtime:
    settings = get_settings()
    return Runtime(backends=connect(settings, name="jobcast-worker"), llm=llm_setup(settings))
