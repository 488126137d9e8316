"""Structural rules the design relies on, checked on the source itself."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.stack import ROOT

LIFECYCLE = ROOT / "store" / "jobs"  # a package: one job at a time, in batches


def sources() -> list[Path]:
    return [p for package in ("actors", "web", "store") for p in (ROOT / package).rglob("*.py")]


def writes_status(tree: ast.AST) -> list[int]:
    """Lines that assign `<something>.status` or pass `status=` to an UPDATE's .values()."""
    lines = []
    for node in ast.walk(tree):
        targets: list[ast.expr] = []
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, ast.AugAssign | ast.AnnAssign):
            targets = [node.target]
        lines += [t.lineno for t in targets if isinstance(t, ast.Attribute) and t.attr == "status"]
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "values"
            and any(keyword.arg == "status" for keyword in node.keywords)
        ):
            lines.append(node.lineno)
    return lines


def test_only_the_lifecycle_package_changes_a_jobs_status() -> None:
    offenders = {
        str(path.relative_to(ROOT)): lines
        for path in sources()
        if not path.is_relative_to(LIFECYCLE)
        and (lines := writes_status(ast.parse(path.read_text())))
    }
    assert offenders == {}
    for module in ("base", "batched"):  # the rule checks something
        assert writes_status(ast.parse((LIFECYCLE / f"{module}.py").read_text()))


def reads_environment(tree: ast.AST) -> bool:
    return any(
        isinstance(node, ast.Attribute) and node.attr in {"environ", "getenv"}
        for node in ast.walk(tree)
    )


# The `jobcast` command line is a separate program (often on another machine): its own
# two variables, JOBCAST_URL and JOBCAST_KEY, are read in this one module.
CLIENT_SETTINGS = ROOT / "client" / "config.py"


def test_nothing_reads_the_environment_but_the_settings_class() -> None:
    # store/settings.py reads it through pydantic-settings, never by hand.
    client = list((ROOT / "client").rglob("*.py"))
    readers = [
        str(path.relative_to(ROOT))
        for path in [*sources(), *client]
        if path != CLIENT_SETTINGS and reads_environment(ast.parse(path.read_text()))
    ]
    assert readers == []
    assert reads_environment(ast.parse("import os\nos.environ['X']"))
    assert reads_environment(ast.parse(CLIENT_SETTINGS.read_text()))


def test_store_imports_neither_web_nor_actors() -> None:
    for path in (ROOT / "store").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                assert not node.module.startswith(("web", "actors")), path
            if isinstance(node, ast.Import):
                assert not any(a.name.startswith(("web", "actors")) for a in node.names), path


# What the web may take from the worker side: the job types (and their type), how to
# enqueue one (and what a failed send raises), the queues' names, and the broker's health.
# Anything else (`actors.<module>`) is worker machinery, free to move.
WEB_MAY_IMPORT_FROM_ACTORS = frozenset(
    {"JOB_TYPES", "JobType", "send_job", "send_jobs", "SEND_ERRORS", "QUEUES", "queue_health"}
)


def worker_imports(tree: ast.AST) -> list[str]:
    """What a module imports from `actors` beyond the names the web may use."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names if alias.name.split(".")[0] == "actors"]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module.startswith("actors."):
                found.append(node.module)
            elif node.module == "actors":
                names = [alias.name for alias in node.names]
                found += [
                    f"actors.{name}" for name in names if name not in WEB_MAY_IMPORT_FROM_ACTORS
                ]
    return found


def test_the_web_imports_only_job_types_send_job_and_queues_from_actors() -> None:
    offenders = {
        str(path.relative_to(ROOT)): names
        for path in (ROOT / "web").rglob("*.py")
        if (names := worker_imports(ast.parse(path.read_text())))
    }
    assert offenders == {}
    for violation in ("from actors.registry import JOB_TYPES", "from actors import run"):
        assert worker_imports(ast.parse(violation)), violation  # the rule checks something
    assert worker_imports(ast.parse("from actors import JOB_TYPES, QUEUES, send_job")) == []


def calls(tree: ast.AST, names: set[str]) -> list[int]:
    """Lines that call a function or method named in `names` (`f(…)` or `x.f(…)`)."""
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
            if name in names:
                lines.append(node.lineno)
    return lines


def only_in(home: Path, names: set[str]) -> dict[str, list[int]]:
    offenders = {
        str(path.relative_to(ROOT)): lines
        for path in sources()
        if path != home and (lines := calls(ast.parse(path.read_text()), names))
    }
    assert calls(ast.parse(home.read_text()), names)  # the rule checks something
    return offenders


def test_redis_clients_are_built_in_one_place() -> None:
    # Their timeouts and pool sizes are chosen there (store/backends.py).
    constructors = {"Redis", "from_url", "BlockingConnectionPool", "ConnectionPool"}
    assert only_in(ROOT / "store" / "backends.py", constructors) == {}


def test_error_responses_are_rendered_in_one_place() -> None:
    # Everything else raises (or renders) an error of store/errors.py's tree.
    assert only_in(ROOT / "web" / "errors.py", {"error_response"}) == {}
