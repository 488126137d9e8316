"""Persona names and per-platform bio instructions come from settings."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from actors.jobtypes.personas import Persona, PersonasParams, batch_prompt, batches
from store.settings import Settings


def prompt(monkeypatch: pytest.MonkeyPatch, **env: str) -> str:
    """The second batch's prompt with these environment variables set, as an operator sets them."""
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return batch_prompt(Settings(), PersonasParams(count=30, audience="sailors"), batches(30)[1])


def test_the_default_prompt_asks_for_first_and_last_names_and_every_platform(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    text = prompt(monkeypatch)
    assert "personas (numbers 21–30 of 30) of sailors" in text
    assert "first name and last name" in text
    for platform in ("facebook", "instagram", "x", "tiktok"):
        assert f"- {platform}: " in text


def test_settings_replace_the_name_prompt_and_a_platform_bio_prompt(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    text = prompt(
        monkeypatch,
        JOBCAST_PERSONA_NAME_PROMPT="Use Norwegian first and last names.",
        JOBCAST_PERSONA_BIO_PROMPTS=json.dumps({"tiktok": "all lowercase, no hashtags"}),
    )
    assert "Use Norwegian first and last names." in text
    assert "- tiktok: all lowercase, no hashtags" in text
    assert "- facebook: a friendly paragraph" in text  # the others keep their default


def test_an_unknown_platform_is_a_configuration_error(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ValidationError, match="unknown platforms"):
        prompt(monkeypatch, JOBCAST_PERSONA_BIO_PROMPTS=json.dumps({"myspace": "x"}))


def test_an_answer_with_one_name_is_split_into_first_and_last() -> None:
    bios = {"facebook": "f", "instagram": "i", "x": "x", "tiktok": "t"}
    persona = Persona.model_validate({"name": "Ada de Vries", "gender": "female", "bios": bios})
    assert (persona.first_name, persona.last_name) == ("Ada de", "Vries")
