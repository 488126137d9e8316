"""Price tables, budgets and their periods, as read from the settings."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from store.budgets import Budget, parse_budgets, period_end, period_start
from store.prices import Price, parse_prices
from store.settings import Settings, _describe


def test_a_price_table_prices_prompt_and_completion_tokens_per_million() -> None:
    prices = parse_prices("gpt-4o-mini=0.15/0.60; local=0 ;flat=2")
    assert prices.table == {
        "gpt-4o-mini": Price(0.15, 0.60), "local": Price(0, 0), "flat": Price(2, 2),
    }  # fmt: skip
    assert prices.cost("gpt-4o-mini", 1_000_000, 2_000_000) == pytest.approx(1.35)
    assert prices.cost("not-listed", 10**9, 10**9) == 0


def test_budgets_name_owners_and_a_default() -> None:
    budgets = parse_budgets("alice=10/day, *=1.5/month")
    assert budgets.of("alice") == Budget(10, "day")
    assert budgets.of("bob") == Budget(1.5, "month")
    assert parse_budgets("alice=10/day").of("bob") is None
    assert not parse_budgets("")


@pytest.mark.parametrize(
    ("name", "raw", "problem"),
    [
        ("JOBCAST_PRICES", "gpt=cheap", "'gpt=cheap' must be model=prompt/completion"),
        ("JOBCAST_BUDGETS", "alice=10/week", "'alice=10/week' must be owner=amount/day"),
        ("JOBCAST_BUDGETS", "alice", "'alice' must be owner=amount/day"),
    ],
)
def test_a_mistake_is_a_one_line_start_up_error(name: str, raw: str, problem: str) -> None:
    with pytest.raises(ValidationError) as caught:
        Settings.model_validate({name: raw})
    message = _describe(caught.value)  # what get_settings() raises as a ConfigError
    assert message.startswith(f"{name}: ") and problem in message


def test_periods_are_utc_calendar_days_and_months() -> None:
    now = datetime(2026, 12, 31, 23, 59, tzinfo=UTC)
    assert period_start("day", now) == datetime(2026, 12, 31, tzinfo=UTC)
    assert period_end("day", now) == datetime(2027, 1, 1, tzinfo=UTC)
    assert period_start("month", now) == datetime(2026, 12, 1, tzinfo=UTC)
    assert period_end("month", now) == datetime(2027, 1, 1, tzinfo=UTC)
    assert period_end("month", datetime(2026, 1, 31, tzinfo=UTC)) == datetime(
        2026, 2, 1, tzinfo=UTC
    )
