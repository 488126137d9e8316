"""The worker side: `dramatiq actors` runs the job pipelines.

The broker is built before any actor is declared, so importing this package (as the
dramatiq CLI and the web process do) always yields actors bound to the right broker.
"""

from actors.broker import build_broker
from store.preflight import check_or_exit
from store.settings import settings_or_exit

_settings = settings_or_exit()
check_or_exit(_settings)
broker = build_broker(_settings)

from actors import jobtypes  # noqa: E402  (needs the broker above)
from actors.job_modules import load as _load_job_modules  # noqa: E402
from actors.run import run_job, send_job  # noqa: E402

_load_job_modules(_settings.job_module_names)

__all__ = ["broker", "jobtypes", "run_job", "send_job"]
