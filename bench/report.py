"""docs/BENCHMARKS.md from a run's results."""

from __future__ import annotations

from bench.result import Check, Result, fmt

INTRO = """\
Written by `make bench` (`python -m bench`), which ran every scenario below and its
baseline in the same run, on the machine described here. Figures from another run or
another machine are not comparable. Latency is measured under constant-rate (open-loop)
load where a rate applies; memory is resident memory (VmRSS) read from /proc; CPU is
user + system time from /proc. The load generators run in processes of their own, on
the same two cores as the servers they load (see "Limits of these figures").
"""


def _ratio(check: Check) -> str:
    return "–" if check.ratio is None else f"{check.ratio:.2f}"


def _check_row(key: str, check: Check) -> str:
    unit = f" {check.unit}" if check.unit else ""
    base = "–" if check.baseline is None else f"{fmt(check.baseline)}{unit}"
    verdict = "met" if check.met else "**missed**"
    return (
        f"| {key} | {check.name} | {fmt(check.ours)}{unit} | {base} | {_ratio(check)} "
        f"| {check.target} | {verdict} |"
    )


def _table(headers: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(headers) + " |", "|" + " --- |" * len(headers)]
    return lines + ["| " + " | ".join(row) + " |" for row in rows]


def render(
    results: list[Result],
    machine: dict[str, str],
    extra: dict[str, str],
    limits: list[str],
    plots: dict[str, str],
) -> str:
    lines = ["# Benchmarks", "", INTRO]
    lines += ["## Machine and run", ""]
    facts = {**machine, **extra}
    lines += _table(["", ""], [[name, value] for name, value in facts.items()])
    lines += ["", "## Targets", ""]
    lines += [
        "| # | measure | ours | baseline | ours ÷ baseline | target | |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    lines += [_check_row(r.key, c) for r in results for c in r.checks]
    for result in results:
        lines += ["", f"## {result.key}: {result.title}", "", result.setup, ""]
        lines += _table(result.headers, result.rows)
        if result.notes:
            lines += [""] + [f"- {note}" for note in result.notes]
        if result.key in plots:
            lines += ["", f"![{result.key}]({plots[result.key]})"]
        lines += ["", f"_Scenario time: {result.seconds:.0f} s._"]
    lines += ["", "## Limits of these figures", ""] + [f"- {item}" for item in limits]
    return "\n".join(lines) + "\n"
