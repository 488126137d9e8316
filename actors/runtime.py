"""The worker process's long-lived objects, built once on first use."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from actors.providers import make_provider
from actors.providers.base import Provider
from store.backends import Backends, connect
from store.settings import get_settings


@dataclass(frozen=True)
class Runtime:
    backends: Backends
    provider: Provider
    model: str


@lru_cache(maxsize=1)
def runtime() -> Runtime:
    settings = get_settings()
    provider = make_provider(settings)
    return Runtime(
        backends=connect(settings, name="jobcast-worker"),
        provider=provider,
        model=settings.model or provider.default_model,
    )
