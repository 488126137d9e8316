"""From settings to the worker's model set-up: provider, models per tier, one-line mistakes."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from actors.providers.openai import OpenAIProvider
from actors.providers.simulated import SimulatedProvider
from actors.worker.runtime import llm_setup
from store.settings import Settings


def settings(**values: object) -> Settings:
    """Settings from `values` alone (validated as given; the environment is not read)."""
    return Settings.model_validate(values)


def test_every_tier_falls_back_to_the_default_model() -> None:
    setup = llm_setup(settings(JOBCAST_LLM="simulated"))
    assert isinstance(setup.provider, SimulatedProvider)
    assert (setup.models.default, setup.models.small, setup.models.large) == ("simulated-1",) * 3
    setup = llm_setup(settings(JOBCAST_LLM="simulated", JOBCAST_MODEL="m", JOBCAST_MODEL_SMALL="s"))
    assert (setup.models.default, setup.models.small, setup.models.large) == ("m", "s", "m")


def test_a_base_url_alone_selects_the_openai_provider() -> None:
    setup = llm_setup(
        settings(
            JOBCAST_LLM=None, openai_base_url="http://127.0.0.1:11434/v1", JOBCAST_MODEL="llama3.1"
        )
    )
    assert isinstance(setup.provider, OpenAIProvider)
    assert setup.models.small == setup.models.large == "llama3.1"


def test_openai_without_a_key_or_a_server_is_a_configuration_error() -> None:
    with pytest.raises(ValidationError) as raised:
        settings(JOBCAST_LLM="openai")
    [error] = raised.value.errors()
    assert error["loc"] == ("JOBCAST_LLM",)
    assert "OPENAI_API_KEY" in error["msg"] and "OPENAI_BASE_URL" in error["msg"]


@pytest.mark.parametrize(
    "values",
    [
        {"JOBCAST_SIM_FAIL_RATE": 1.5},
        {"JOBCAST_SIM_FAIL_KIND": "teapot"},
        {"JOBCAST_LLM_CONCURRENCY": 0},
    ],
)
def test_out_of_range_model_settings_are_refused(values: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        settings(JOBCAST_LLM="simulated", **values)
