"""Job types from outside this package: `JOBCAST_JOB_MODULES=myapp.jobs,other.jobs`.

Each module registers its types with `actors.registry.register` when imported, as the
built-in ones do. Web and worker processes import the same list, so both know every
type; a module that cannot be imported is one line at start-up, and the process exits.
"""

from __future__ import annotations

import importlib
import sys


def load(names: list[str]) -> None:
    for name in names:
        try:
            importlib.import_module(name)
        except Exception as error:  # any failure while importing user code is fatal here
            reason = f"{type(error).__name__}: {error}"
            line = f"jobcast: JOBCAST_JOB_MODULES: cannot import {name!r}: {reason}"
            print(line, file=sys.stderr)
            raise SystemExit(2) from None
