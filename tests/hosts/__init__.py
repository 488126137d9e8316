"""A multi-host test bed on one machine: network namespaces joined by a bridge.

```
            root namespace: bridge jcbXXXXXX, 10.213.Y.1 (+ the relays below)
   ┌──────┬───────┬──────┬──────┬───────┬───────┬───────┐
   db     redis   web1   web2   work1   work2   work3        one veth each, 10.213.Y.2…
   PostgreSQL  Valkey  uvicorn (Procfile web)  dramatiq actors (Procfile worker)
```

`up()` builds it and starts the servers; roles start on demand (`start_web`,
`start_worker`); `Bed.down()` removes everything, and `sweep()` whatever a killed run
left. Used by tests/e2e/test_hosts.py, bench/scenarios/s10_hosts.py and scripts/hosts.py.
"""

from tests.hosts.bed import Bed
from tests.hosts.build import empty, up
from tests.hosts.net import NamespacesUnavailable, probe
from tests.hosts.sweep import BEDS, sweep, teardown

__all__ = ["BEDS", "Bed", "NamespacesUnavailable", "empty", "probe", "sweep", "teardown", "up"]
