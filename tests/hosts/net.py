"""The network of a bed: one bridge in the root namespace, one network namespace per host,
each joined to the bridge by a veth pair, all in a /24 of the bed's own.

Every name starts with the bed's id (`jcb` + 6 hex digits), so a sweep finds what a
killed run left behind and never touches anything else. Interface names stay within
Linux's 15 characters: the bridge is the id itself, a host's veth is `<id>-<n>`.
"""

from __future__ import annotations

import ipaddress
import random
import subprocess
from dataclasses import dataclass, field

PREFIX = "jcb"


class NamespacesUnavailable(RuntimeError):
    """This machine does not let us create network namespaces (not root, or forbidden)."""


def ip(*args: str, check: bool = True) -> str:
    done = subprocess.run(["ip", *args], capture_output=True, text=True, timeout=30)
    if check and done.returncode != 0:
        raise RuntimeError(f"ip {' '.join(args)}: {done.stderr.strip()}")
    return done.stdout


def in_netns(namespace: str, *command: str) -> list[str]:
    """A command line that runs `command` inside `namespace` (`ip netns exec` execs it,
    so the pid a Popen gets is the command's own)."""
    return ["ip", "netns", "exec", namespace, *command]


def namespaces() -> list[str]:
    return [line.split()[0] for line in ip("netns", "list").splitlines() if line.strip()]


def free_subnet() -> ipaddress.IPv4Network:
    """A 10.213.Y.0/24 no route of this machine uses yet."""
    used = ip("-4", "route", "show", "table", "all")
    candidates = [f"10.213.{y}." for y in range(1, 255)]
    random.shuffle(candidates)
    for stem in candidates:
        if stem not in used:
            return ipaddress.IPv4Network(f"{stem}0/24")
    raise RuntimeError("no free 10.213.Y.0/24 left")


@dataclass
class Host:
    name: str  # the role's name in the bed: db, redis, web1, …
    namespace: str
    address: str
    veth: str  # the root namespace's end; down = the host is cut off


@dataclass
class Network:
    bed_id: str
    subnet: ipaddress.IPv4Network
    hosts: dict[str, Host] = field(default_factory=dict)

    @property
    def bridge(self) -> str:
        return self.bed_id

    @property
    def gateway(self) -> str:
        """The bridge's own address: how hosts reach services in the root namespace."""
        return str(self.subnet.network_address + 1)

    def create(self) -> None:
        ip("link", "add", self.bridge, "type", "bridge")
        ip("addr", "add", f"{self.gateway}/{self.subnet.prefixlen}", "dev", self.bridge)
        ip("link", "set", self.bridge, "up")

    def add_host(self, name: str) -> Host:
        index = len(self.hosts) + 1
        namespace, veth = f"{self.bed_id}-{name}", f"{self.bed_id}-{index}"
        inner = f"{self.bed_id}i"  # renamed eth0 once inside
        address = str(self.subnet.network_address + 1 + index)
        ip("netns", "add", namespace)
        ip("link", "add", veth, "type", "veth", "peer", "name", inner, "netns", namespace)
        ip("link", "set", veth, "master", self.bridge, "up")
        for args in (
            ("link", "set", "lo", "up"),
            ("link", "set", inner, "name", "eth0"),
            ("addr", "add", f"{address}/{self.subnet.prefixlen}", "dev", "eth0"),
            ("link", "set", "eth0", "up"),
        ):
            ip("-n", namespace, *args)
        host = Host(name, namespace, address, veth)
        self.hosts[name] = host
        return host

    def cut(self, name: str) -> None:
        """Unplug a host: its frames are dropped in silence, as in a real partition
        (its own interface stays up, so its sockets wait rather than fail at once)."""
        ip("link", "set", self.hosts[name].veth, "down")

    def restore(self, name: str) -> None:
        ip("link", "set", self.hosts[name].veth, "up")


def probe() -> None:
    """Raise NamespacesUnavailable unless a namespace can be made here (and remove it)."""
    name = f"{PREFIX}probe{random.randrange(16**6):06x}"
    try:
        ip("netns", "add", name)
    except (RuntimeError, OSError) as error:
        raise NamespacesUnavailable(f"cannot create a network namespace: {error}") from error
    ip("netns", "del", name, check=False)


def remove(bed_id: str) -> None:
    """Delete a bed's namespaces (their veth ends go with them) and its bridge."""
    for namespace in namespaces():
        if namespace.startswith(f"{bed_id}-"):
            ip("netns", "del", namespace, check=False)
    ip("link", "del", bed_id, check=False)


def pids_in(namespace: str) -> list[int]:
    return [int(pid) for pid in ip("netns", "pids", namespace, check=False).split()]
