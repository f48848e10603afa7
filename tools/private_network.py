"""A private test network of "hosts" on this machine, made of Linux network namespaces (root only).

CI uses it to run the course's cluster as a real multi-host deployment would be: the scheduler,
every worker and the object store each on a host of their own, with an IP address of its own,
that reach each other (and are reached from the root namespace, where the notebook runs) only
over the network::

    from tools.private_network import PrivateNetwork

    with PrivateNetwork(["scheduler", "worker-0"]) as network:
        network.ip("worker-0")                       # '10.213.17.3'
        argv = [*network.run_on("worker-0"), "python", "-c", "..."]

What it builds, and removes on exit (also after an error):

* a Linux bridge ``dcn<N>-br`` in the root namespace with the gateway address ``10.213.<N>.1/24``
  (``N`` derived from this process's PID, so that two runs at once do not clash), IP forwarding
  off on it;
* per host, a network namespace ``dcn<N>-<host>`` joined to the bridge by a veth pair
  (``dcn<N>-<i>`` in the root namespace, ``eth0`` inside), with ``10.213.<N>.<i + 2>`` and its
  loopback up. There is no default route, no NAT and no forwarding: no packet leaves the machine.

:meth:`PrivateNetwork.run_on` is the argv prefix that runs a command on a host: inside its network
namespace and a private mount namespace in which the course checkout (the repository root) and the
data folder (``data/`` or ``$COURSE_DATA_DIR``) are hidden under empty tmpfs mounts, while the
Python environment (``sys.prefix``) stays usable at its path. So on a host, ``import dask`` works,
``import helpers`` does not, and the data folder is empty, as on a machine that only has the
environment installed. ``ip netns exec``, ``unshare`` and ``sh -c 'exec ...'`` each replace
themselves with the next program: the command keeps the PID (and process group) it was started
with, so signalling the group reaches it.

Leftovers of a run that died without cleaning up (its owner PID, stored in the bridge's alias,
is gone) are removed when the next network is created. :func:`unavailable_reason` says why
namespaces cannot be used here (not root, no ``ip``/``unshare``...), or ``None``.

Nothing happens at import time.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from tools.course import ROOT

#: Every name this module creates (bridge, veths, namespaces) starts with ``dcn<N>-``.
NAME_PREFIX = "dcn"
#: Test networks are ``10.213.<N>.0/24``.
SUBNET_PREFIX = "10.213"
#: Where the course's generated data live when ``$COURSE_DATA_DIR`` is not set
#: (the same rule as :func:`helpers.data.data_dir`).
DATA_ENV_VAR = "COURSE_DATA_DIR"
_PROGRAMS = ("ip", "unshare", "mount", "sh")
_NAME = re.compile(rf"^{NAME_PREFIX}(\d+)-")
_MAX_IFNAME = 15
#: Held while stale networks are looked for and a new one is named and made.
LOCK_FILE = Path(tempfile.gettempdir()) / f"{NAME_PREFIX}-networks.lock"


# --- can we? --------------------------------------------------------------------------------------

def unavailable_reason() -> str | None:
    """Why private networks cannot be made here, or ``None`` when they can.

    Needs Linux, root, the programs ``ip``, ``unshare``, ``mount`` and ``sh``, and the right to
    create network and mount namespaces (tried once, with ``unshare --net --mount true``).
    """
    if not sys.platform.startswith("linux"):
        return f"network namespaces are Linux only (this is {sys.platform})"
    if os.geteuid() != 0:
        return "network namespaces need root (run the tests as root, e.g. in a CI container)"
    missing = [name for name in _PROGRAMS if shutil.which(name) is None]
    if missing:
        return (f"{', '.join(missing)} not found: install iproute2 and util-linux "
                f"(apt-get install iproute2 util-linux)")
    probe = subprocess.run(["unshare", "--net", "--mount", "true"], capture_output=True,
                           text=True)
    if probe.returncode != 0:
        return f"cannot create namespaces here (unshare: {probe.stderr.strip()})"
    return None


# --- hiding the checkout -----------------------------------------------------------------------

def hidden_paths(repo: Path = ROOT) -> list[Path]:
    """The folders a host must not see: the course checkout ``repo`` and the data folder.

    Examples
    --------
    >>> hidden_paths(Path("/r"))[0] == Path("/r")
    True
    """
    configured = os.environ.get(DATA_ENV_VAR)
    data = Path(configured).resolve() if configured else repo / "data"
    # A data folder outside the checkout is hidden only if it exists (mkdir would create it).
    visible = data.is_relative_to(repo) or data.exists()
    return [repo] + ([data] if visible and data != repo else [])


def kept_paths(hidden: Iterable[Path], keep: Iterable[Path] | None = None) -> list[Path]:
    """The folders of ``keep`` (default: this Python's environment and its base installation)
    that lie inside a hidden folder, and so must be mounted back.

    Examples
    --------
    >>> kept_paths([Path("/r")], [Path("/r/.venv"), Path("/usr")])
    [PosixPath('/r/.venv')]
    """
    hidden = list(hidden)
    if keep is None:
        keep = dict.fromkeys([Path(sys.prefix), Path(sys.base_prefix)])
    return [path for path in keep if any(path.is_relative_to(h) for h in hidden)]


def isolation_script(hidden: Sequence[Path], kept: Sequence[Path], stage: Path) -> str:
    """The ``sh`` script that hides ``hidden`` (empty tmpfs over each) but keeps ``kept`` visible
    at their paths, then execs its arguments (``"$@"``). Run it in a private mount namespace.

    Each kept folder is bind-mounted to ``stage/<i>`` first, then back in place once the tmpfs
    covers its parent.

    Examples
    --------
    >>> print(isolation_script([Path("/r")], [Path("/r/.venv")], Path("/s")))  # doctest: +ELLIPSIS
    mount --bind /r/.venv /s/0 && mkdir -p /r && mount -t tmpfs ... /r && ... exec "$@"
    """
    steps = [f"mount --bind {shlex.quote(str(path))} {shlex.quote(str(stage / str(i)))}"
             for i, path in enumerate(kept)]
    for path in hidden:
        quoted = shlex.quote(str(path))
        steps += [f"mkdir -p {quoted}", f"mount -t tmpfs -o size=1m,mode=0755 hidden {quoted}"]
    for i, path in enumerate(kept):
        staged, quoted = shlex.quote(str(stage / str(i))), shlex.quote(str(path))
        steps += [f"mkdir -p {quoted}", f"mount --bind {staged} {quoted}", f"umount {staged}"]
    return " && ".join([*steps, 'exec "$@"'])


def run_on_argv(netns: str, hidden: Sequence[Path], kept: Sequence[Path],
                stage: Path) -> list[str]:
    """The argv prefix that runs a command in network namespace ``netns`` and in a private mount
    namespace where ``hidden`` are empty and ``kept`` stay visible (:func:`isolation_script`).

    Examples
    --------
    >>> run_on_argv("dcn7-a", [Path("/r")], [], Path("/s"))[:8]
    ['ip', 'netns', 'exec', 'dcn7-a', 'unshare', '--mount', '--propagation', 'private']
    """
    return ["ip", "netns", "exec", netns, "unshare", "--mount", "--propagation", "private",
            "sh", "-c", isolation_script(hidden, kept, stage), "sh"]


# --- the ip command -----------------------------------------------------------------------------

def _ip(*args: str, check: bool = True) -> str:
    """Run ``ip args``; its output. On failure (when ``check``), an error that says what failed."""
    done = subprocess.run(["ip", *args], capture_output=True, text=True)
    if check and done.returncode != 0:
        raise RuntimeError(f"`ip {' '.join(args)}` failed: {done.stderr.strip()}. Run as root "
                           f"on Linux with iproute2; `python -m tools.private_network --clean` "
                           f"removes leftovers of earlier runs.")
    return done.stdout


def _json(*args: str) -> list[dict]:
    out = _ip("-j", *args, check=False).strip()
    return json.loads(out) if out else []


def _links() -> dict[str, dict]:
    return {link["ifname"]: link for link in _json("link", "show")}


def _namespaces() -> list[str]:
    return [entry["name"] for entry in _json("netns", "list")]


def _owner_tag() -> str:
    import psutil

    return f"owner {os.getpid()} {psutil.Process().create_time():.2f}"


def _owner_alive(alias: str | None) -> bool:
    """Whether the process named in a bridge alias (:func:`_owner_tag`) still runs."""
    import psutil

    match = re.fullmatch(r"owner (\d+) ([\d.]+)", alias or "")
    if not match:
        return False
    try:
        return f"{psutil.Process(int(match[1])).create_time():.2f}" == match[2]
    except psutil.NoSuchProcess:
        return False


def _remove(number: int) -> list[int]:
    """Remove every namespace, link and staging folder of network ``number``, killing what
    still runs there; the PIDs killed."""
    prefix, killed = f"{NAME_PREFIX}{number}-", []
    links = _links()
    for name in links:
        if name.startswith(prefix) and not name.endswith("-br"):
            _ip("link", "del", name, check=False)
    for netns in _namespaces():
        if netns.startswith(prefix):
            for pid in _ip("netns", "pids", netns, check=False).split():
                try:
                    os.kill(int(pid), signal.SIGKILL)
                    killed.append(int(pid))
                except ProcessLookupError:
                    pass
            _ip("netns", "del", netns, check=False)
    if f"{prefix}br" in links:
        _ip("link", "del", f"{prefix}br", check=False)
    for stage in Path(tempfile.gettempdir()).glob(f"{prefix}stage-*"):
        shutil.rmtree(stage, ignore_errors=True)
    return killed


def clean_stale() -> list[int]:
    """Remove the networks left by runs that died without cleaning up; their numbers."""
    links = _links()
    numbers = {int(m[1]) for name in [*links, *_namespaces()] if (m := _NAME.match(name))}
    stale = [n for n in sorted(numbers)
             if not _owner_alive(links.get(f"{NAME_PREFIX}{n}-br", {}).get("ifalias"))]
    for number in stale:
        _remove(number)
    return stale


@contextmanager
def _lock() -> Iterator[None]:
    """Only one process at a time looks for stale networks or makes a new one."""
    import fcntl

    with open(LOCK_FILE, "a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def _free_number() -> int:
    """A network number whose names and subnet nobody uses, starting from one our PID picks."""
    used_names = {int(m[1]) for name in [*_links(), *_namespaces()] if (m := _NAME.match(name))}
    used_subnets = {int(a["local"].split(".")[2]) for link in _json("addr", "show")
                    for a in link.get("addr_info", [])
                    if a.get("local", "").startswith(f"{SUBNET_PREFIX}.")}
    start = os.getpid() % 254
    for offset in range(254):
        number = (start + offset) % 254 + 1
        if number not in used_names | used_subnets:
            return number
    raise RuntimeError(f"every {SUBNET_PREFIX}.N.0/24 test network is in use: "
                       f"`python -m tools.private_network --clean` removes stale ones")


def _write(path: str, value: str) -> None:
    with open(path, "w") as f:
        f.write(value)


# --- the network --------------------------------------------------------------------------------

class PrivateNetwork:
    """A bridge and one network namespace per host, on a private ``10.213.N.0/24`` (root only).

    Parameters
    ----------
    hosts : sequence of str
        The hosts' names (letters, digits, ``-``), e.g. ``["scheduler", "worker-0"]``.
    repo : path
        The course checkout to hide from the hosts (default: the one this code runs from).

    Examples
    --------
    >>> with PrivateNetwork(["a", "b"]) as network:                      # doctest: +SKIP
    ...     subprocess.run([*network.run_on("a"), "python", "-c", "print(1)"])
    """

    def __init__(self, hosts: Sequence[str], *, repo: Path = ROOT) -> None:
        if len(set(hosts)) != len(hosts) or len(hosts) > 250:
            raise ValueError(f"hosts must be at most 250 distinct names, got {list(hosts)}")
        self.hosts = list(hosts)
        self.repo = repo
        self.number: int | None = None
        #: The PIDs :meth:`close` found still running on the hosts, and killed.
        self.killed: list[int] = []
        self._stage: Path | None = None

    # names and addresses ---------------------------------------------------------------------

    @property
    def bridge(self) -> str:
        """The bridge's name (in the root namespace)."""
        return f"{NAME_PREFIX}{self.number}-br"

    @property
    def gateway(self) -> str:
        """The root namespace's address on the network (the bridge's)."""
        return f"{SUBNET_PREFIX}.{self.number}.1"

    @property
    def subnet(self) -> str:
        """The network, e.g. ``"10.213.17.0/24"``."""
        return f"{SUBNET_PREFIX}.{self.number}.0/24"

    def netns(self, host: str) -> str:
        """The network namespace of ``host``."""
        return f"{NAME_PREFIX}{self.number}-{host}"

    def ip(self, host: str) -> str:
        """The IP address of ``host``."""
        return f"{SUBNET_PREFIX}.{self.number}.{self.hosts.index(host) + 2}"

    def run_on(self, host: str) -> list[str]:
        """The argv prefix that runs a command on ``host`` (see :func:`run_on_argv`)."""
        hidden = hidden_paths(self.repo)
        return run_on_argv(self.netns(host), hidden, kept_paths(hidden), self._stage)

    # making and removing it ------------------------------------------------------------------

    def create(self) -> PrivateNetwork:
        """Remove stale networks, then make this one; on error, remove what was made."""
        try:
            with _lock():
                clean_stale()
                self.number = _free_number()
                self._make_bridge()
                self._stage = Path(tempfile.mkdtemp(prefix=f"{NAME_PREFIX}{self.number}-stage-"))
            for i in range(len(kept_paths(hidden_paths(self.repo)))):
                (self._stage / str(i)).mkdir()
            for index, host in enumerate(self.hosts):
                self._make_host(index, host)
        except BaseException:
            self.close()
            raise
        return self

    def _make_bridge(self) -> None:
        _ip("link", "add", self.bridge, "type", "bridge")
        _ip("link", "set", "dev", self.bridge, "alias", _owner_tag())
        _ip("addr", "add", f"{self.gateway}/24", "dev", self.bridge)
        _write(f"/proc/sys/net/ipv4/conf/{self.bridge}/forwarding", "0")
        _ip("link", "set", self.bridge, "up")

    def _make_host(self, index: int, host: str) -> None:
        netns, veth = self.netns(host), f"{NAME_PREFIX}{self.number}-{index}"
        if len(veth) > _MAX_IFNAME:
            raise ValueError(f"interface name {veth!r} is longer than {_MAX_IFNAME} characters")
        _ip("netns", "add", netns)
        _ip("link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", netns)
        _ip("link", "set", veth, "master", self.bridge, "up")
        _ip("-n", netns, "addr", "add", f"{self.ip(host)}/24", "dev", "eth0")
        _ip("-n", netns, "link", "set", "lo", "up")
        _ip("-n", netns, "link", "set", "eth0", "up")

    def close(self) -> None:
        """Kill whatever still runs on the hosts and remove the namespaces, veths and bridge."""
        if self.number is not None:
            self.killed = _remove(self.number)

    def leftovers(self) -> list[str]:
        """Names of this network's namespaces and links that still exist (none after close)."""
        prefix = f"{NAME_PREFIX}{self.number}-"
        return [name for name in [*_namespaces(), *_links()] if name.startswith(prefix)]

    def __enter__(self) -> PrivateNetwork:
        return self.create()

    def __exit__(self, *exc) -> None:
        self.close()


def main(argv: Sequence[str] = ()) -> int:
    """``python -m tools.private_network --clean``: remove stale test networks."""
    if "--clean" not in argv:
        print("usage: python -m tools.private_network --clean   (remove stale test networks)")
        return 2
    with _lock():
        print(f"removed: {clean_stale() or 'nothing'}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
