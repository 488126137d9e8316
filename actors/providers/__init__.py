"""Model providers behind one interface (`base.Provider`)."""

from __future__ import annotations

from actors.providers.base import Provider
from actors.providers.simulated import SimulatedProvider
from store.settings import Settings


def make_provider(settings: Settings) -> Provider:
    if settings.provider == "simulated":
        return SimulatedProvider(ttft=settings.sim_ttft, tps=settings.sim_tps)
    raise NotImplementedError(
        "JOBCAST_LLM=openai: the OpenAI-compatible provider is not built yet (issue #3)"
    )
