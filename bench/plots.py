"""The two plots of docs/BENCHMARKS.md (matplotlib, installed by `make bench` only)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from bench.result import Result


def s4_staleness(result: Result, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4), dpi=110)
    for label, key, color in (
        ("push (WebSocket)", "push_sample", "tab:blue"),
        ("poll every 1 s", "poll_sample", "tab:orange"),
    ):
        values = sorted(v for v in result.data[key] if v > 0)
        if values:
            shares = [(i + 1) / len(values) for i in range(len(values))]
            ax.step(values, shares, where="post", label=label, color=color)
    ax.set_xscale("log")
    ax.set_xlabel("staleness: event → seen by the client (ms, log scale)")
    ax.set_ylabel("share of changes seen")
    ax.set_title("S4: how stale is what 1,000 watchers see? (CDF)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(loc="lower right")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def s5_latency(result: Result, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    steps: dict[str, list[dict[str, Any]]] = result.data["steps"]
    fig, axes = plt.subplots(1, 2, figsize=(10, 4), dpi=110, sharey=True)
    counts = sorted({int(name.rsplit(" ", 1)[1]) for name in steps})
    for ax, server, color in zip(
        axes, ("jobcast", "bare websockets"), ("tab:blue", "tab:gray"), strict=True
    ):
        for shade, clients in enumerate(counts):
            runs = steps[f"{server} {clients}"]
            rates = [s["messages_per_s"] for s in runs]
            alpha = 0.45 + 0.55 * shade / max(1, len(counts) - 1)
            for pct, style in (("p50", ":"), ("p95", "-"), ("p99", "--")):
                values = [s[pct] if not math.isnan(s[pct]) else None for s in runs]
                ax.plot(
                    rates,
                    values,
                    style,
                    marker="o",
                    color=color,
                    alpha=alpha,
                    label=f"{clients:,} conns {pct}",
                )
        ax.axhline(100, color="tab:red", lw=0.8)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_title(server)
        ax.set_xlabel("messages delivered per second (all connections)")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=7)
    axes[0].set_ylabel("delivery latency (ms, log scale)")
    fig.suptitle("S5: delivery latency by connection count and message rate (red: 100 ms)")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
