"""Network partitions for the chaos harness: each service process in a network namespace of its own,
joined to the machine by a veth pair; a partition is an nftables table inside that namespace that
silently drops the process's packets to and from some peers, and healing deletes the table.

Layout (one block 10.231.X.0/24 per harness, X the first block no local address or route uses):
  10.231.X.1/32          the servers' address: PostgreSQL, Redis, the Sentinels and the SMTP sink
                         listen on it besides 127.0.0.1 (tests/support/servers.sh TK_SERVERS_HOST),
                         on a veth pair of its own in the root namespace (the kernel has no dummy
                         interfaces here); local, so nothing is forwarded and nothing leaves the
                         machine
  10.231.X.(8k+1)/29     process k's host end (HAProxy and the harness reach the process from it)
  10.231.X.(8k+2)/29     process k's end, in namespace tkchaos-<harness pid>-<k>; its only route
                         besides its own /29 is to the servers' address, through the host end
Drops, not rejects: no RST and no ICMP, so the process notices only by its own timeouts, as behind
a failed switch. Everything lives in the namespaces except the veth host ends and the servers'
address; the names carry the harness's pid, so a later harness removes what a killed one left.
"""
import ipaddress, os, re, shutil, signal, subprocess

PREFIX = "tkchaos"      # namespaces: tkchaos-<pid>-<k>
LINK = "tkc"            # interfaces: tkc<pid>h<k> (host end), tkc<pid>n<k>, tkc<pid>s/t (servers)
RANGE = "10.231"
TABLE = "inet tkchaos"  # the partition's rules, inside a process's namespace


def _ip(*args, check=True):
    return subprocess.run(["ip", *args], capture_output=True, text=True, check=check)


def unavailable():
    """Why partitions cannot be made here (None when they can): root, iproute2 and nft, and a
    namespace that can be created and given a ruleset."""
    if os.geteuid() != 0:
        return "not root"
    for tool in ("ip", "nft"):
        if not shutil.which(tool):
            return f"`{tool}` not installed (scripts/deps.sh installs nftables)"
    ns = f"{PREFIX}-{os.getpid()}-probe"
    try:
        r = _ip("netns", "add", ns, check=False)
        if r.returncode:
            return "ip netns add failed: " + r.stderr.strip()
        r = _ip("netns", "exec", ns, "nft", "list", "tables", check=False)
        if r.returncode:
            return "nft in a namespace failed: " + r.stderr.strip()
    finally:
        _ip("netns", "del", ns, check=False)
    return None


def _owner_alive(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return b"chaos" in f.read()
    except OSError:
        return False


def remove_stale():
    """Removes the namespaces and interfaces of harnesses that are gone (killed before their
    cleanup ran), and the processes still running in those namespaces (theirs)."""
    removed = []
    for line in _ip("netns", "list", check=False).stdout.splitlines():
        name = line.split()[0] if line.split() else ""
        m = re.fullmatch(PREFIX + r"-(\d+)-\w+", name)
        if not m or _owner_alive(int(m.group(1))):
            continue
        for pid in _ip("netns", "pids", name, check=False).stdout.split():
            try:
                os.kill(int(pid), signal.SIGKILL)
            except (OSError, ValueError):
                pass
        _ip("netns", "del", name, check=False)
        removed.append(name)
    for line in _ip("-o", "link", "show", check=False).stdout.splitlines():
        m = re.match(r"\d+: (" + LINK + r"(\d+)[a-z]\d*)[@:]", line)
        if m and not _owner_alive(int(m.group(2))):
            _ip("link", "del", m.group(1), check=False)
            removed.append(m.group(1))
    return removed


def _free_block():
    """Third octet of a 10.231.X.0/24 no local address or route touches (another harness, a VPN)."""
    used = _ip("-o", "-4", "addr", "show", check=False).stdout + _ip("-4", "route", "show", "table",
                                                                      "all", check=False).stdout
    nets = [ipaddress.ip_network(m, strict=False) for m in re.findall(r"(\d+\.\d+\.\d+\.\d+(?:/\d+)?)", used)]
    for x in range(1, 255):
        block = ipaddress.ip_network(f"{RANGE}.{x}.0/24")
        if not any(block.overlaps(n) for n in nets if n.prefixlen >= 8):
            return x
    raise RuntimeError(f"no free block in {RANGE}.0.0/16")


class Net:
    """The namespaces of `count` processes and the servers' address; `close()` removes all of it."""

    def __init__(self, count):
        if count > 30:
            raise ValueError("at most 30 processes (one /29 each in a /24)")
        self.pid, self.count, self.cuts, self.closed = os.getpid(), count, {}, False
        x = _free_block()
        self.block = f"{RANGE}.{x}"
        self.servers = f"{self.block}.1"
        self.clients = f"{self.block}.0/24"
        self.links = []
        try:
            self._up()
        except Exception:
            self.close()
            raise

    def ns(self, k):
        return f"{PREFIX}-{self.pid}-{k}"

    def addr(self, k):
        """The process's address (inside its namespace)."""
        return f"{self.block}.{8 * k + 2}"

    def host(self, k):
        """The host end's address: where HAProxy's and the harness's connections come from."""
        return f"{self.block}.{8 * k + 1}"

    def exec_prefix(self, k):
        return ["ip", "netns", "exec", self.ns(k)]

    def _up(self):
        s, t = f"{LINK}{self.pid}s", f"{LINK}{self.pid}t"
        _ip("link", "add", s, "type", "veth", "peer", "name", t)
        self.links.append(s)
        _ip("addr", "add", self.servers + "/32", "dev", s)
        _ip("link", "set", s, "up")
        _ip("link", "set", t, "up")
        for k in range(1, self.count + 1):
            ns, h, n = self.ns(k), f"{LINK}{self.pid}h{k}", f"{LINK}{self.pid}n{k}"
            _ip("netns", "add", ns)
            _ip("link", "add", h, "type", "veth", "peer", "name", n)
            self.links.append(h)
            _ip("link", "set", n, "netns", ns)
            _ip("addr", "add", self.host(k) + "/29", "dev", h)
            _ip("link", "set", h, "up")
            _ip("-n", ns, "link", "set", "lo", "up")
            _ip("-n", ns, "addr", "add", self.addr(k) + "/29", "dev", n)
            _ip("-n", ns, "link", "set", n, "up")
            # No default route: from the namespace only the servers' address and the host end exist.
            _ip("-n", ns, "route", "add", self.servers + "/32", "via", self.host(k))

    # --- partitions: kind -> nftables rules in process k's namespace
    def cut(self, k, kind, ports):
        """Cuts process k from the servers listening on `ports` (kind `redis`, `pg`), or, for kind
        `lb`, the root namespace (the balancer, the harness) from its listeners on `ports`."""
        self.cuts.setdefault(k, {})[kind] = sorted(set(int(p) for p in ports))
        self._apply(k)

    def heal(self, k, kind=None):
        cuts = self.cuts.get(k, {})
        if kind is None:
            cuts.clear()
        else:
            cuts.pop(kind, None)
        self._apply(k)

    def heal_all(self):
        for k in range(1, self.count + 1):
            if self.cuts.get(k):
                self.heal(k)

    def _apply(self, k):
        if self.closed:  # a heal racing the exit's cleanup: the namespace and its rules are gone
            return
        out, inp = [], []
        for kind, ports in self.cuts.get(k, {}).items():
            p = "{ " + ", ".join(map(str, ports)) + " }"
            if kind == "lb":  # the process's listeners, as seen from the root namespace
                inp.append(f"ip saddr {self.host(k)} tcp dport {p} drop")
                out.append(f"ip daddr {self.host(k)} tcp sport {p} drop")
            else:             # the servers, in both directions (a reply in flight is lost too)
                out.append(f"ip daddr {self.servers} tcp dport {p} drop")
                inp.append(f"ip saddr {self.servers} tcp sport {p} drop")
        # Replaced in one transaction: create (so the delete cannot fail), delete, define.
        script = f"table {TABLE} {{}}\ndelete table {TABLE}\n"
        if out or inp:
            script += (f"table {TABLE} {{\n"
                       "  chain output {\n    type filter hook output priority 0;\n"
                       + "".join(f"    {r}\n" for r in out) + "  }\n"
                       "  chain input {\n    type filter hook input priority 0;\n"
                       + "".join(f"    {r}\n" for r in inp) + "  }\n}\n")
        r = subprocess.run(self.exec_prefix(k) + ["nft", "-f", "-"], input=script, capture_output=True,
                           text=True)
        if r.returncode:
            raise RuntimeError(f"nft in {self.ns(k)}: {r.stderr.strip()}")

    def rules(self, k):
        return subprocess.run(self.exec_prefix(k) + ["nft", "list", "ruleset"], capture_output=True,
                              text=True).stdout

    def close(self):
        """Deletes the namespaces (their rules and veth ends go with them) and the host ends. The
        processes in them must be stopped first: a namespace outlives its name while one runs."""
        self.closed = True
        for k in range(1, self.count + 1):
            _ip("netns", "del", self.ns(k), check=False)
        for link in self.links:
            _ip("link", "del", link, check=False)  # gone already when its peer's namespace went
        self.links = []
