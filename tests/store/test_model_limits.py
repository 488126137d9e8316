"""`JOBCAST_LIMITS` as a user writes it: per provider:model rpm, tpm and reply allowance,
and one line naming the entry when it is wrong."""

from __future__ import annotations

import pytest

from store.model_limits import DEFAULT_REPLY_TOKENS, ModelLimits, parse_limits


def test_entries_per_provider_and_model_with_colons_in_model_names() -> None:
    raw = "openai:gpt-4o-mini=rpm:500,tpm:200000; openai:llama3:8b=TPM:30000,reply:2000;"
    assert parse_limits(raw) == {
        ("openai", "gpt-4o-mini"): ModelLimits(rpm=500, tpm=200000, reply=DEFAULT_REPLY_TOKENS),
        ("openai", "llama3:8b"): ModelLimits(rpm=None, tpm=30000, reply=2000),
    }
    assert parse_limits("") == {}


@pytest.mark.parametrize(
    ("raw", "says"),
    [
        ("gpt-4o-mini=rpm:5", "entry 1 ('gpt-4o-mini=rpm:5') must be provider:model=rpm:N,tpm:N"),
        ("openai:m=rpm:5;openai:m=tpm:9", "entry 2: openai:m is given twice"),
        ("openai:m=rpm:5,rpd:9", "entry 1: 'rpd:9' is not one of rpm:N, tpm:N, reply:N"),
        ("openai:m=rpm:0", "entry 1: rpm must be a whole number above 0"),
        ("openai:m=tpm:1e5", "entry 1: tpm must be a whole number above 0"),
        ("openai:m=rpm:5,rpm:6", "entry 1: rpm is given twice"),
    ],
)
def test_a_mistake_names_its_entry(raw: str, says: str) -> None:
    with pytest.raises(ValueError) as raised:
        parse_limits(raw)
    assert str(raised.value) == says
