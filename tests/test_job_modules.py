"""JOBCAST_JOB_MODULES: users' own job types, registered without forking jobcast."""

from __future__ import annotations

import httpx

from tests.faults import FaultStack
from tests.test_startup import WEB, WORKER, jobcast_lines, run


def test_job_types_of_extra_modules_are_served(resilient_stack: FaultStack) -> None:
    types = {t["type"]: t for t in httpx.get(f"{resilient_stack.base_url}/job-types").json()}
    assert {"chat", "flaky", "long_chat", "kill_worker"} <= set(types)
    assert types["flaky"]["max_attempts"] == 3


def test_a_module_that_cannot_be_imported_is_one_line_at_start_up() -> None:
    for command in (WEB, WORKER):
        code, stderr = run(command, JOBCAST_JOB_MODULES="tests.jobtypes, no_such.module")
        assert code != 0
        lines = jobcast_lines(stderr)
        assert lines == [
            "jobcast: JOBCAST_JOB_MODULES: cannot import 'no_such.module': "
            "ModuleNotFoundError: No module named 'no_such'"
        ], stderr
