"""How big each scenario runs: FULL for `make bench`, SMOKE for the test suite."""

from __future__ import annotations

from dataclasses import dataclass, replace


@dataclass(frozen=True)
class Sizes:
    # S1: offered rates (jobs/s), seconds per rate, pause between rates.
    s1_rates: tuple[float, ...] = (
        100, 140, 200, 280, 390, 550, 770, 1080, 1500, 2100, 2950, 4100, 5800, 8200, 11500
    )  # fmt: skip
    s1_step_s: float = 2.0
    s1_pause_s: float = 0.5
    # S1: the warm-up pass every server gets before its ladder (rates, seconds each).
    s1_warmup_rates: tuple[float, ...] = (100, 200)
    s1_warmup_s: float = 2.0
    # S2: jobs, one at a time, each after a random idle time within this range (s).
    s2_jobs: int = 30
    s2_idle_s: tuple[float, float] = (0.25, 0.5)
    s2_idle_cost_s: float = 3.0  # how long the idle worker's polling is watched
    # S3: no-op jobs (and bare messages) per run.
    s3_jobs: int = 1500
    # S4: clients (one running job each), seconds between a job's events, seconds a phase.
    s4_clients: int = 1000
    s4_every_s: float = 5.0
    s4_seconds: float = 12.0
    # S5: connection counts; events/s on the watched job, tried in turn; seconds a rate.
    s5_clients: tuple[int, ...] = (1000, 5000)
    s5_rates: tuple[float, ...] = (1, 2, 5, 10, 20)
    s5_step_s: float = 2.0
    s5_pause_s: float = 1.0
    # S6: concurrent jobs, each followed by one client; the simulated model's pace.
    s6_jobs: int = 1000
    s6_ttft: float = 0.3
    s6_tps: float = 50.0
    s6_tokens: int = 100
    # S7: jobs in flight at once (2 processes × half as many threads); the model's pace.
    s7_concurrency: int = 200
    s7_ttft: float = 0.3
    s7_tps: float = 50.0
    s7_tokens: int = 300
    # S8: jobs in one POST /jobs/batch, and how many such requests.
    s8_batch: int = 1000
    s8_requests: int = 20
    # S9: the large owner's burst, the small owner's jobs and their spacing (s), worker
    # threads; jobs through the scheduler's Redis steps alone.
    s9_big: int = 400
    s9_small: int = 20
    s9_every_s: float = 0.25
    s9_threads: int = 8
    s9_cost_jobs: int = 2000
    # S10: worker hosts tried in turn; no-op jobs per step; streaming jobs per step (all
    # submitted at once) and their tokens; worker threads per host.
    s10_hosts: tuple[int, ...] = (1, 2, 3)
    s10_jobs: int = 400
    s10_streams: int = 48
    s10_tokens: int = 60
    s10_threads: int = 8


FULL = Sizes()
SMOKE = replace(
    FULL,
    s1_rates=(20, 40),
    s1_step_s=0.5,
    s1_pause_s=0.1,
    s1_warmup_rates=(20,),
    s1_warmup_s=0.5,
    s2_jobs=3,
    s2_idle_s=(0.05, 0.1),
    s2_idle_cost_s=0.3,
    s3_jobs=30,
    s4_clients=20,
    s4_every_s=1.0,
    s4_seconds=2.0,
    s5_clients=(10, 20),
    s5_rates=(5, 10),
    s5_step_s=0.5,
    s5_pause_s=0.2,
    s6_jobs=10,
    s6_tokens=20,
    s7_concurrency=10,
    s7_tokens=20,
    s8_batch=20,
    s8_requests=3,
    s9_big=16,
    s9_small=3,
    s9_every_s=0.05,
    s9_threads=2,
    s9_cost_jobs=50,
    s10_hosts=(1, 2),
    s10_jobs=10,
    s10_streams=4,
    s10_tokens=10,
    s10_threads=2,
)
