"""Log formats and levels (store/logs.py): what a line looks like, what never shows."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys

import pytest
from pydantic import ValidationError

from store.logs import FIELDS, JsonFormatter, TextFormatter
from store.settings import Settings
from tests.stack import ROOT

SECRET = "alice-0123456789abcdefghij"


def record(
    message: str, fields: dict[str, object], error: Exception | None = None
) -> logging.LogRecord:
    exc_info = (type(error), error, error.__traceback__) if error else None
    made = logging.LogRecord("jobcast.jobs", logging.WARNING, __file__, 1, message, (), exc_info)
    setattr(made, FIELDS, fields)
    return made


def test_a_json_line_is_one_object_with_the_fields_and_the_traceback() -> None:
    try:
        raise RuntimeError(f"boom with {SECRET}")
    except RuntimeError as error:
        line = JsonFormatter([SECRET]).format(record("job failed", {"job_id": "j1"}, error))
    assert "\n" not in line
    parsed = json.loads(line)
    assert parsed["ts"].endswith("Z")
    assert (parsed["level"], parsed["logger"], parsed["message"]) == (
        "WARNING", "jobcast.jobs", "job failed",
    )  # fmt: skip
    assert parsed["job_id"] == "j1" and "RuntimeError" in parsed["exc"]
    assert SECRET not in line and "[redacted]" in parsed["exc"]


def test_a_text_line_is_key_value_with_quotes_only_where_needed() -> None:
    fields = {"job_id": "j1", "attempt": 2, "reason": "two words", "key": SECRET}
    line = TextFormatter([SECRET]).format(record("job retrying", fields))
    assert line.endswith(
        ' WARNING jobcast.jobs: job retrying job_id=j1 attempt=2 reason="two words" key=[redacted]'
    )


CONFIGURED = """
import logging
from store.logs import configure
from store.settings import get_settings
configure(get_settings())
logging.getLogger("jobcast.jobs").info("an info line")
logging.getLogger("jobcast.jobs").warning("a warning line")
logging.getLogger("openai").debug("a request body with a prompt")
"""


@pytest.mark.parametrize(("level", "expected"), [("debug", 2), ("WARNING", 1)])
def test_the_level_comes_from_the_setting_and_model_client_chatter_stays_out(
    level: str, expected: int
) -> None:
    env = {**os.environ, "JOBCAST_LOG_LEVEL": level, "JOBCAST_LOG_FORMAT": "JSON"}
    done = subprocess.run(
        [sys.executable, "-c", CONFIGURED], cwd=ROOT, env=env, capture_output=True, text=True,
        timeout=30,
    )  # fmt: skip
    lines = [json.loads(line) for line in done.stderr.splitlines()]
    assert [line["message"] for line in lines] == ["an info line", "a warning line"][-expected:]


def test_an_unknown_format_is_a_configuration_error() -> None:
    with pytest.raises(ValidationError, match="JOBCAST_LOG_FORMAT"):
        Settings(JOBCAST_LOG_FORMAT="xml")
