"""Model providers behind one interface (`base.Provider`), built from settings."""

from __future__ import annotations

from actors.providers.base import Provider
from actors.providers.simulated import Failures, SimulatedProvider
from store.settings import Settings


def make_provider(settings: Settings) -> Provider:
    if settings.provider == "simulated":
        return SimulatedProvider(
            ttft=settings.sim_ttft,
            tps=settings.sim_tps,
            seed=settings.sim_seed,
            tokens=settings.sim_tokens,
            failures=Failures(settings.sim_fail_rate, settings.sim_fail_kind),
        )
    # Imported here: the web process imports `actors` to enqueue, and never needs the SDK.
    from actors.providers.openai import OpenAIOptions, OpenAIProvider

    return OpenAIProvider(
        OpenAIOptions(
            base_url=settings.openai_base_url,
            api_key=settings.openai_api_key,
            connect_timeout=settings.llm_connect_timeout,
            read_timeout=settings.llm_read_timeout,
            stream_usage=settings.openai_stream_usage,
            response_format=settings.openai_response_format,
        )
    )
