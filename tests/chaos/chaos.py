#!/usr/bin/env python3
"""Seeded chaos harness: a crowd buys while faults drawn from a seed hit the topology; after each
run, with every fault healed, the invariants are checked.

Topology (started once, tests/support/servers.sh): PostgreSQL under Patroni (etcd, a primary and a
synchronous replica; the processes and the invariant queries find the primary through the
multi-host URL, catalogue reads go to the replica while it is fresh) or one PostgreSQL (`--pg
single`), Redis under three Sentinels or one Redis (`--redis plain`), an SMTP sink; service
processes in pattern B behind HAProxy and the nginx + ModSecurity edge (scripts/ha.sh), TLS from a
CA made for the run. Each run creates a fresh performance, lets a crowd of buyers (threads, real
HTTP through the edge) join, wait, hold, order and pay, and applies a schedule of faults drawn from
the run's seed: kill -9 of a service process, SIGSTOP of one past the hold TTL, Redis failed over,
emptied, restarted or paused, the PostgreSQL primary killed (Patroni promotes the synchronous
replica) or the replica stopped, or the one PostgreSQL crashed (immediate stop) and restarted, clock
skew on one process (test builds), and network partitions: one process cut from Redis and the
Sentinels (`partition_redis`), from PostgreSQL (`partition_pg`) or from the balancer
(`partition_lb`) for a drawn time, its packets silently dropped, then healed. Run k of `--seed S`
uses seed S+k; a failing run prints the command that replays exactly its schedule (`--seed S+k
--runs 1`).

Partitions need root, iproute2 and nft (tests/chaos/netns.py); without them they are dropped with
the reason printed. With them every service process runs in a network namespace of its own (also
when restarted after a kill), joined to the machine by a veth pair; the servers listen on a private
address of this machine besides loopback (servers.sh TK_SERVERS_HOST) and HAProxy reaches the
processes at their namespaces' addresses. A partition is an nftables table inside the process's
namespace; the namespaces and veth pairs are removed on exit (also on an error, Ctrl-C, SIGTERM),
and what a killed harness left is removed by the next one.

Invariants (checked per run, on what clients were told and what PostgreSQL, Redis and the SMTP sink
hold):
  I1 no seat with two tickets; every payment answered 200 is a paid order with those tickets
  I2 sold + held + available = capacity, and PostgreSQL's sold rows = its tickets
  I3 one charge per paid order; no charge without a paid order (or a void)
  I4 no order made from a hold after its expiry (deliberately late orders are refused)
  I5 one receipt per paid order at the SMTP sink (one Message-ID; copies of it are allowed)
  I6 nobody's place moves, no place handed out twice; admission batches never overlap or go
     backwards and never exceed the configured size (when Redis kept them); the public admission
     log passes the verifier (tools/verify_admission_log.py) and has no hole
  I7 everything in flight ends within a bound: no payment left in doubt, the outbox drained, no
     pending order past its expiry; the service takes writes again within 30 s of the heal
  I8 (partitions) the cut process answers within a bound while cut: every request sent straight to
     it answers within 12 s, a failure as 503 with Retry-After; it is ready (and UP at the
     balancer) again within 30 s of the heal
Usage: chaos.py --bin SERVICE [--seed S] [--runs N] [--episode SECONDS] [--faults KIND,...]
                [--pg patroni|single] [--redis sentinel|plain] [--summary FILE] [--keep]"""
import argparse, atexit, collections, json, os, random, re, shutil, signal, socket, subprocess, sys
import tempfile, threading, time, traceback, urllib.error, urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "e2e"))
import api  # noqa: E402
import invariants  # noqa: E402
import purchase  # noqa: E402
sys.path.insert(0, os.path.join(ROOT, "tools"))
import verify_admission_log  # noqa: E402
import netns  # noqa: E402  (tests/chaos/netns.py)

SERVERS = os.path.join(ROOT, "tests", "support", "servers.sh")
HA = os.path.join(ROOT, "scripts", "ha.sh")
ADMIN = "chaos-admin"
HOLD_TTL = 8           # seconds: short, so a paused process outlives holds within a run
MAX_SKEW_MS = 2500     # clock_skew moves one process's clock by up to this
ADMIT, INTERVAL_MS = 20, 100


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def sh(*args, check=True, env=None):
    r = subprocess.run(args, capture_output=True, text=True, env=env)
    if check and r.returncode:  # what the servers' script said is the diagnosis: keep it
        raise RuntimeError(f"{' '.join(args)}: exit {r.returncode}: {(r.stderr or r.stdout).strip()[-2000:]}")
    return r


def ha(fn, *args):
    """Runs a function of scripts/ha.sh."""
    return subprocess.run(["bash", "-c", f'. "{HA}"; "$@"', "ha", fn, *map(str, args)],
                          capture_output=True, text=True)


def read_env(path, into):
    for line in open(path):
        k, _, v = line.strip().partition("=")
        if k and not k.startswith("#"):
            into[k] = v.strip("'\"")


class Topology:
    def __init__(self, binary, processes, work, redis_mode, pg_mode, net=None, pattern="B"):
        self.bin, self.work, self.procs, self.ports = binary, work, {}, {}
        self.redis_mode, self.pg_mode, self.net, self.stopped = redis_mode, pg_mode, net, False
        self.pattern, self.roles, self.rabbit_state = pattern, {}, "up"
        self.servers = os.path.join(work, "servers")
        self.sentinel = os.path.join(work, "sentinel")
        self.patroni = os.path.join(work, "patroni")
        self.rabbit = os.path.join(work, "rabbitmq")
        try:
            self.up(processes)
        except BaseException:
            self.stop()  # whatever did start (etcd, Patroni, Redis...) must not outlive the harness
            raise

    def up(self, processes):
        work, net = self.work, self.net
        # With namespaces the servers listen on an address the processes reach (netns.Net), too.
        senv = dict(os.environ)
        if net:
            senv.update(TK_SERVERS_HOST=net.servers, TK_SERVERS_CLIENTS=net.clients)
        # With Patroni the fixture's own PostgreSQL would idle beside the cluster: not started.
        sh("bash", SERVERS, "start", self.servers, *(["--no-pg"] if self.pg_mode == "patroni" else []),
           env=senv)
        self.env = dict(os.environ)
        read_env(os.path.join(self.servers, "env"), self.env)
        if self.pg_mode == "patroni":
            # etcd and two nodes, synchronous replication. TICKETING_PG_URL names both nodes with
            # target_session_attrs=read-write, so the processes and every invariant query (psql)
            # reach whichever node is primary; TICKETING_PG_READ_URL (prefer-standby) takes the
            # catalogue reads while the replica is fresh.
            sh("bash", SERVERS, "patroni-start", self.patroni, env=senv)
            read_env(os.path.join(self.patroni, "env"), self.env)
        if self.redis_mode == "sentinel":
            # A primary, a replica and three sentinels; the processes find the primary through them.
            sh("bash", SERVERS, "sentinel-start", self.sentinel, env=senv)
            read_env(os.path.join(self.sentinel, "env"), self.env)
        if self.pattern == "A":
            # The broker between the API processes' outbox relay and the worker (loopback only).
            sh("bash", SERVERS, "rabbitmq-start", self.rabbit)
            read_env(os.path.join(self.rabbit, "env"), self.env)
        self.pg, self.redis_port = self.env["TICKETING_PG_URL"], self.env["TK_REDIS_PORT"]
        self.mail_dir = self.env["TK_MAIL_DIR"]
        self.env.update({
            "TICKETING_HTTP_HOST": "127.0.0.1", "TICKETING_THREADS": "2",
            "TICKETING_SECRET": "chaos-secret-0123456789abcdef0123456789abcdef",
            "TICKETING_ADMIN_TOKEN": ADMIN, "TICKETING_ARGON2_OPSLIMIT": "1",
            "TICKETING_ARGON2_MEMLIMIT_KIB": "8192", "TICKETING_ARGON2_PER_ADDRESS": "256",
            "TICKETING_ARGON2_QUEUE": "256", "TICKETING_RATE_PER_ADDRESS": "0",
            "TICKETING_SIGNUPS_PER_MINUTE": "100000", "TICKETING_ACCESS_LOG": "0",
            "TICKETING_PROXY_PROTOCOL": "1", "TICKETING_TRUSTED_PROXIES": "127.0.0.1",
            "TICKETING_DRAIN_DELAY_MS": "1500", "TICKETING_OUTBOX_LEASE_MS": "6000",
            "TICKETING_SMTP_TIMEOUT_MS": "5000", "TICKETING_OUTBOX_RETRY_BASE_MS": "200",
            # The fake provider answers at once: a short timeout leaves the short holds room to pay.
            "TICKETING_PAYMENT_TIMEOUT_MS": "1000"})
        # Pattern B: N processes doing everything, each behind the balancer. Pattern A: a worker,
        # N API processes and two gateways; the balancer reaches the gateways, they the APIs.
        if self.pattern == "A":
            self.roles = {"worker-1": "worker", **{f"api-{i}": "api" for i in range(1, processes + 1)},
                          "gateway-1": "gateway", "gateway-2": "gateway"}
        else:
            self.roles = {f"service-{i}": "all" for i in range(1, processes + 1)}
        self.ports.update({name: (free_port(), free_port()) for name in self.roles})
        for name in self.roles:  # in that order: gateways find their APIs ready
            self.start(name)
        tls = os.path.join(work, "tls")
        if ha("ha_tls", tls).returncode:
            raise RuntimeError("could not make the local CA")
        lb, edge = free_port(), free_port()
        servers = [f"{n}={self.where(n)}:{p}/{o}" for n, (p, o) in self.ports.items() if n in self.fronts]
        r = ha("ha_haproxy_cfg", os.path.join(work, "haproxy.cfg"), "127.0.0.1", lb, tls, work, *servers)
        if r.returncode:
            raise RuntimeError("haproxy rejected its configuration: " + r.stderr)
        ha("ha_haproxy_start", os.path.join(work, "haproxy.cfg"), work)
        r = ha("ha_nginx_cfg", os.path.join(work, "edge"), "127.0.0.1", edge, tls, "127.0.0.1", lb)
        if r.returncode:
            raise RuntimeError("nginx rejected its configuration: " + r.stderr)
        ha("ha_nginx_start", os.path.join(work, "edge"))
        os.environ["SSL_CERT_FILE"] = os.path.join(tls, "ca.crt")
        self.base = f"https://localhost:{edge}"
        self.call = api.make_call(self.base)
        self.wait(lambda: self.call("GET", "/readyz")[0] == 200, 30, "the edge")

    @staticmethod
    def wait(cond, seconds, what):
        deadline = time.time() + seconds
        while time.time() < deadline:
            try:
                if cond():
                    return
            except Exception:  # noqa: BLE001 - not up yet
                pass
            time.sleep(0.1)
        raise RuntimeError(f"{what} not ready within {seconds} s")

    # --- service processes
    @staticmethod
    def index(name):
        return int(name.rsplit("-", 1)[1])

    @property
    def fronts(self):
        """The processes behind the balancer (pattern A: the gateways)."""
        return [n for n, r in self.roles.items() if r in ("all", "gateway")]

    @property
    def clocked(self):
        """The processes that serve the sale and so have the test builds' clock."""
        return [n for n, r in self.roles.items() if r in ("all", "api")]

    def where(self, name):
        """The address the process listens on: its namespace's, or loopback without namespaces."""
        return self.net.addr(self.index(name)) if self.net else "127.0.0.1"

    def start(self, name):
        port, ops = self.ports[name]
        env = dict(self.env, TICKETING_HTTP_PORT=str(port), TICKETING_OPS_PORT=str(ops))
        role = self.roles[name]
        if role != "all":
            env["TICKETING_ROLE"] = role
        if role in ("api", "worker"):  # behind the gateways, which pass the client address on
            env["TICKETING_PROXY_PROTOCOL"] = "0"
        if role == "gateway":
            env.update(TICKETING_GATEWAY_HEALTH_INTERVAL_MS="200", TICKETING_GATEWAY_UPSTREAMS=",".join(
                f"{self.where(n)}:{self.ports[n][0]}" for n, r in self.roles.items() if r == "api"))
        cmd = [self.bin]
        if self.net:
            # In its namespace (again after a kill): it listens there, and the balancer's
            # connections come from the host end of its veth pair, which it must trust.
            k = self.index(name)
            cmd = self.net.exec_prefix(k) + cmd
            env.update(TICKETING_HTTP_HOST=self.where(name), TICKETING_OPS_HOST=self.where(name),
                       TICKETING_TRUSTED_PROXIES="127.0.0.1," + self.net.host(k))
        log = open(os.path.join(self.work, name + ".log"), "ab")
        # `ip netns exec` execs the service: the pid is the service's, for the signal faults.
        self.procs[name] = subprocess.Popen(cmd, env=env, stdout=log, stderr=log,
                                            stdin=subprocess.DEVNULL)
        self.wait(lambda: self.ready(name) == 200, 60, name)

    def ready(self, name, timeout=30):
        """Status of the process's /readyz (its ops listener); None when it does not answer."""
        url = f"http://{self.where(name)}:{self.ports[name][1]}/readyz"
        try:
            with urllib.request.urlopen(url, timeout=timeout) as r:
                return r.status
        except urllib.error.HTTPError as e:
            return e.code
        except OSError:
            return None

    def signal(self, name, sig):
        p = self.procs.get(name)
        if p and p.poll() is None:
            p.send_signal(sig)
            if sig == signal.SIGKILL:
                p.wait()

    def alive(self, name):
        p = self.procs.get(name)
        return p is not None and p.poll() is None

    def servers_cmd(self, cmd):
        sh("bash", SERVERS, cmd, self.servers)

    def sentinel_cmd(self, cmd):
        return sh("bash", SERVERS, cmd, self.sentinel).stdout.strip()

    def patroni_cmd(self, cmd):
        return sh("bash", SERVERS, cmd, self.patroni).stdout.strip()

    def rabbit_cmd(self, cmd, state=None):
        sh("bash", SERVERS, cmd, self.rabbit)
        if state:
            self.rabbit_state = state

    def redis_primary(self):
        """Port of the Redis that takes writes now."""
        if self.redis_mode == "sentinel":
            return self.sentinel_cmd("sentinel-primary").splitlines()[-1]
        return self.redis_port

    def store_ports(self, kind):
        """Ports a partition from Redis (`partition_redis`: every Redis node and Sentinel the
        processes may talk to) or PostgreSQL (`partition_pg`: every host of the URL) cuts."""
        if kind == "partition_pg":
            hosts = re.match(r"postgres(?:ql)?://(?:[^@/]*@)?([^/?]*)", self.env["TICKETING_PG_URL"]).group(1)
            return [int(h.rsplit(":", 1)[1]) for h in hosts.split(",")]
        if self.redis_mode == "sentinel":
            ports = self.env["TK_SENTINEL_NODE_PORTS"] + "," + self.env["TK_SENTINEL_PORTS"]
            return [int(p) for p in ports.split(",")]
        return [int(self.redis_port)]

    def haproxy_state(self, name):
        """The balancer's view of a process: UP, DOWN (or another state name), None unknown."""
        try:
            with socket.socket(socket.AF_UNIX) as s:
                s.settimeout(5)
                s.connect(os.path.join(self.work, "haproxy.sock"))
                s.sendall(b"show stat\n")
                out = b""
                while chunk := s.recv(65536):
                    out += chunk
        except OSError:
            return None
        for line in out.decode(errors="replace").splitlines():
            f = line.split(",")
            if len(f) > 17 and f[0] == "processes" and f[1] == name:
                return f[17].split(" ")[0]
        return None

    def redis_signal(self, sig):
        """Signals the current primary (Sentinel mode); returns its pid file."""
        port = self.redis_primary()
        pidf = os.path.join(self.sentinel, "n" + port, "redis.pid")
        os.kill(int(open(pidf).read()), sig)
        self.paused_redis = pidf if sig == signal.SIGSTOP else None

    def direct(self, name, method, path, headers=None, body=None, timeout=30):
        """One request straight to a process, past the balancer: (status, headers, seconds);
        status None when it did not answer within `timeout`. The process reads the PROXY
        protocol on its port: the request starts with a v1 header."""
        port, _ = self.ports[name]
        data = json.dumps(body).encode() if body is not None else b""
        head = [f"{method} {path} HTTP/1.1", "Host: chaos", "Connection: close",
                f"Content-Length: {len(data)}"] + [f"{k}: {v}" for k, v in (headers or {}).items()]
        if body is not None:
            head.append("Content-Type: application/json")
        proxy = b"PROXY TCP4 127.0.0.1 127.0.0.1 1 1\r\n" if name in self.fronts else b""
        req = proxy + "\r\n".join(head).encode() + b"\r\n\r\n" + data
        t0, raw = time.time(), b""
        try:
            with socket.create_connection((self.where(name), port), timeout=timeout) as s:
                s.settimeout(max(0.1, t0 + timeout - time.time()))
                s.sendall(req)
                while b"\r\n\r\n" not in raw:
                    chunk = s.recv(4096)
                    if not chunk:
                        break
                    raw += chunk
                    s.settimeout(max(0.1, t0 + timeout - time.time()))
        except OSError:
            pass
        elapsed = time.time() - t0
        lines = raw.split(b"\r\n\r\n")[0].decode(errors="replace").split("\r\n")
        try:
            status = int(lines[0].split(" ")[1])
        except (IndexError, ValueError):
            return None, {}, elapsed
        hdrs = {k.strip().lower(): v.strip() for k, _, v in (ln.partition(":") for ln in lines[1:])}
        return status, hdrs, elapsed

    def clock(self, name, advance_ms):
        """Moves one process's clock (test builds); False where the route does not exist."""
        status, _, _ = self.direct(name, "POST", "/v1/test/clock", {"Authorization": "Bearer " + ADMIN},
                                   {"advance_ms": advance_ms}, timeout=10)
        return status == 200

    def heal(self):
        if self.net:
            self.net.heal_all()
        # The servers first: a process started again runs its migrations and waits for /readyz.
        if self.redis_mode == "sentinel":
            pidf = getattr(self, "paused_redis", None)
            if pidf:
                os.kill(int(open(pidf).read()), signal.SIGCONT)
                self.paused_redis = None
            self.sentinel_cmd("sentinel-heal")
        else:
            self.servers_cmd("redis-resume")
            if sh("redis-cli", "-p", self.redis_port, "ping", check=False).stdout.strip() != "PONG":
                self.servers_cmd("redis-start")
        if self.pg_mode == "patroni":
            # Both nodes and etcd up, the leader streaming to a synchronous replica: the next
            # failover has a candidate, and what is judged next was committed on both nodes.
            self.patroni_cmd("patroni-restore")
        elif sh("psql", self.pg, "-Atc", "SELECT 1", check=False).stdout.strip() != "1":
            self.servers_cmd("pg-start")
        if self.rabbit_state != "up":
            self.rabbit_cmd("rabbitmq-thaw" if self.rabbit_state == "paused" else "rabbitmq-resume")
            self.rabbit_state = "up"
        for name in self.roles:
            if not self.alive(name):
                self.start(name)
            else:
                self.signal(name, signal.SIGCONT)
        for name in self.ports:
            self.wait(lambda: self.ready(name, 5) == 200, 60, name)

    def stop(self):
        """Stops everything that started (also after a partial start); a second call does nothing."""
        if self.stopped:
            return
        self.stopped = True
        ha("ha_stop_pid", os.path.join(self.work, "edge", "nginx.master"), "QUIT")
        ha("ha_stop_pid", os.path.join(self.work, "haproxy.pid"))
        for name in self.procs:
            self.signal(name, signal.SIGCONT)
            self.signal(name, signal.SIGKILL)
        sh("bash", SERVERS, "stop", self.servers, check=False)
        sh("bash", SERVERS, "sentinel-stop", self.sentinel, check=False)
        for n in (1, 2):  # patroni-stop deletes the nodes' folders: their logs stay with the run's
            log = os.path.join(self.patroni, f"node{n}", "patroni.log")
            if os.path.exists(log):
                shutil.copy(log, os.path.join(self.work, f"patroni-node{n}.log"))
        sh("bash", SERVERS, "patroni-stop", self.patroni, check=False)  # etcd and both nodes
        if self.pattern == "A":
            sh("bash", SERVERS, "rabbitmq-stop", self.rabbit, check=False)
        if self.net:
            self.net.close()  # after the processes: a namespace outlives its name while one runs


# --- faults: each applies itself and returns how to heal; `rng` draws its parameters
class Fault:
    def __init__(self, kind, at, detail, heal_after, apply, heal):
        self.kind, self.at, self.detail, self.heal_after = kind, at, detail, heal_after
        self.apply, self.heal = apply, heal
        self.started = at  # when it was applied, seconds into the run (later if one before ran long)
        self.applied_at = self.healed_at = None  # wall-clock times of apply and heal
        self.watch = None  # a partition's Watch: what was seen while it held, and its violations

    def __str__(self):
        seen = f"; {self.watch}" if self.watch else ""
        return f"{self.kind}@{self.started:.1f}s({self.detail}, {self.heal_after:.1f}s{seen})"


def frozen_windows(applied, partition):
    """When later faults stopped or killed the partitioned process, or cut it from the balancer
    (and so from the harness, which reaches it from the balancer's side): a probe still in flight
    then, its answer included, waits for the fault's heal."""
    return [(f.applied_at, f.healed_at or time.time()) for f in applied
            if f is not partition and f.kind in ("pause_service", "kill_service", "partition_lb")
            and f.detail == partition.watch.name and f.applied_at]


# A partition's probes must be answered within the request budget (TICKETING_REQUEST_TIMEOUT_MS,
# 10 s by default) plus a margin; after the heal the process must be ready again within RECOVER.
PROBE_BOUND, RECOVER = 12.0, 30.0


class Watch:
    """Watches a partitioned process from the harness's side while the partition holds and until it
    recovers: its /readyz (when it turned 503, when it was 200 again), for a cut from the balancer
    HAProxy's view (DOWN, UP again), requests sent straight to it with the run's probe account
    (status, Retry-After, time to answer), and the warnings it logged while cut. Violations
    (filed as I8): a probe not answered within PROBE_BOUND, an answer other than 200 or 503 with
    Retry-After, no recovery within RECOVER of the heal."""

    def __init__(self, topo, name, kind):
        self.topo, self.name, self.kind = topo, name, kind
        self.t0 = self.healed_at = None
        self.unready_at = self.ready_at = None  # /readyz not 200 while cut, 200 again after
        self.down_at = self.up_at = None        # the balancer's view: DOWN while cut, UP after
        self.readyz_slowest = 0.0
        self.probes, self.violations, self.warnings = [], [], collections.Counter()
        self.cut_rules = 0
        self.stop = threading.Event()
        self.threads = []

    def start(self):
        self.t0 = time.time()
        log = os.path.join(self.topo.work, self.name + ".log")
        self.log_from = os.path.getsize(log) if os.path.exists(log) else 0
        rules = self.topo.net.rules(self.topo.index(self.name))
        self.cut_rules = rules.count(" drop")
        self.threads = [threading.Thread(target=self.balancer_loop)]
        if self.kind != "partition_lb":  # the harness is cut off with the balancer in that one
            self.threads += [threading.Thread(target=self.ready_loop),
                             threading.Thread(target=self.probe_loop)]
        for t in self.threads:
            t.start()

    def healed(self):
        self.healed_at = time.time()
        with open(os.path.join(self.topo.work, self.name + ".log"), "rb") as f:
            f.seek(self.log_from)
            text = f.read().decode(errors="replace")
        for line in text.splitlines():  # the process's own account: its warnings while cut off
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if entry.get("level") in ("warn", "error"):
                self.warnings[entry.get("msg", "?")] += 1

    def finish(self, frozen=()):
        """Waits for the recovery (at most RECOVER after the heal), then judges. `frozen`: the
        (from, to) wall-clock intervals in which a later fault stopped or killed this same process:
        a probe still in its hands then is not judged by its time."""
        for t in self.threads:
            t.join()
        self.stop.set()
        if self.kind != "partition_lb" and self.ready_at is None:
            self.violations.append(f"{self.name} not ready again {RECOVER:.0f} s after the {self.kind} healed")
        if self.up_at is None:
            self.violations.append(f"{self.name} not UP at the balancer {RECOVER:.0f} s after the {self.kind} healed")
        for path, status, retry_after, took, sent in self.probes:
            if any(a < sent + took and sent < b for a, b in frozen):
                continue
            # Any answer of the contract is fine (a 4xx too: sold out); a failure must be a 503
            # that says when to come back. No answer, or one past the bound, is the violation.
            if status is None:
                self.violations.append(f"{path} on {self.name}: no answer within {took:.1f} s")
            elif took > PROBE_BOUND:
                self.violations.append(f"{path} on {self.name}: {status} after {took:.1f} s (bound {PROBE_BOUND:.0f} s)")
            elif status >= 500 and (status != 503 or not retry_after):
                self.violations.append(f"{path} on {self.name}: {status}"
                                       + (" without Retry-After" if status == 503 else ""))

    def after_heal(self):
        """Seconds past the heal, or None while it holds."""
        return None if self.healed_at is None else time.time() - self.healed_at

    def ready_loop(self):
        while True:
            since = self.after_heal()
            if since is not None and (self.ready_at is not None or since > RECOVER):
                return
            t = time.time()
            st = self.topo.ready(self.name, timeout=5)
            now = time.time()
            if since is None:  # asked while cut (the answer may come after the heal)
                self.readyz_slowest = max(self.readyz_slowest, now - t)
                if st != 200 and self.unready_at is None:
                    self.unready_at = now
            elif st == 200:
                self.ready_at = now
            time.sleep(0.2)

    def balancer_loop(self):
        while True:
            since = self.after_heal()
            if since is not None and (self.up_at is not None or since > RECOVER):
                return
            st = self.topo.haproxy_state(self.name)
            now = time.time()
            if since is None and st not in ("UP", None) and self.down_at is None:
                self.down_at = now
            if since is not None and st == "UP":
                self.up_at = now
            time.sleep(0.2)

    def probe_loop(self):
        """While the partition holds, alternately: the probe account's join of the queue without
        its ticket (Redis finds its place: the same one every time) and its orders (PostgreSQL).
        Both authenticate its session (Redis, PostgreSQL when Redis fails)."""
        probe = getattr(self.topo, "probe", None)
        if not probe:
            return
        auth = {"Authorization": "Bearer " + probe["session"]}
        reqs = [("POST", f"/v1/performances/{probe['perf']}/queue", "queue-join"),
                ("GET", "/v1/me/orders", "me/orders")]
        i = 0
        while self.healed_at is None:
            method, path, label = reqs[i % 2]
            i += 1
            sent = time.time()
            status, hdrs, took = self.topo.direct(self.name, method, path, auth, timeout=PROBE_BOUND + 18)
            # Every probe sent while the partition held counts, also one answered after the heal.
            self.probes.append((label, status, hdrs.get("retry-after"), took, sent))
            time.sleep(0.3)

    def __str__(self):
        def at(t):
            return f"{t - self.t0:.1f}s" if t else "never"
        def after(t):
            return f"{t - self.healed_at:.1f}s after heal" if t and self.healed_at else "never"
        ready = ("" if self.kind == "partition_lb" else
                 f"/readyz not 200 at {at(self.unready_at)} (slowest answer {self.readyz_slowest:.1f}s), "
                 f"200 {after(self.ready_at)}, ")
        took = collections.defaultdict(list)
        for p, s, _, t, _ in self.probes:
            took[(p, s)].append(t)
        probes = (", probes " + " ".join(f"{p} {s} x{len(t)} ({min(t):.1f}-{max(t):.1f}s)"
                                          for (p, s), t in sorted(took.items(), key=str))
                  ) if self.probes else ""
        logs = ("; its log: " + ", ".join(f"'{m}' x{n}" for m, n in self.warnings.most_common(3))
                if self.warnings else "")
        return (f"{self.cut_rules} drop rules, {ready}balancer DOWN at {at(self.down_at)}, "
                f"UP {after(self.up_at)}{probes}{logs}")


SALE_INVARIANT = {"no seat in two paid answers": "I1",
                  "every paid answer backed by its ticket row": "I1",
                  "every payment answered 200 is a paid order": "I1",
                  "fence rows agree": "I2",
                  "exactly one charge per paid order": "I3",
                  "no charge without a paid order": "I3"}

# Redis faults by topology: one Redis, or a primary + replica under three Sentinels.
REDIS_KINDS = {"plain": ["redis_empty", "redis_restart", "redis_pause"],
               "sentinel": ["redis_failover", "redis_switch", "redis_flush", "redis_pause"]}
# Network partitions: need root and network namespaces (tests/chaos/netns.py).
PARTITION_KINDS = ["partition_redis", "partition_pg", "partition_lb"]
# PostgreSQL faults by topology: one server, or a primary + synchronous replica under Patroni.
PG_KINDS = {"single": ["pg_crash"], "patroni": ["pg_failover", "pg_replica_stop"]}
# Broker faults: pattern A only (pattern B has no broker).
PATTERN_KINDS = {"B": [], "A": ["rabbit_restart", "rabbit_pause"]}
KINDS = ["kill_service", "pause_service", "redis_empty", "redis_restart", "redis_pause",
         "redis_failover", "redis_switch", "redis_flush", "pg_crash", "pg_failover",
         "pg_replica_stop", "clock_skew", "rabbit_restart", "rabbit_pause"] + PARTITION_KINDS


def partition(topo, rng, at, kind, name):
    """One process cut from Redis (and the Sentinels), from PostgreSQL, or from the balancer
    (which must mark it down and route around it), for a drawn time; packets silently dropped."""
    k = topo.index(name)
    if kind == "partition_lb":
        d, what, ports = rng.uniform(2, 6), "lb", list(topo.ports[name])
    elif kind == "partition_redis":  # past the command timeout (2 s) and the stall limit (3 s)
        d, what, ports = rng.uniform(2, 9), "redis", None
    else:  # at times past the first failure seen (a connect's 2 s, a statement's 7 s guard) + 5 s
        d, what, ports = rng.uniform(3, 14), "pg", None
    fault = Fault(kind, at, name, d, None, None)

    def apply():
        topo.net.cut(k, what, ports or topo.store_ports(kind))
        fault.watch = Watch(topo, name, kind)
        fault.watch.start()

    def heal():
        topo.net.heal(k, what)
        if fault.watch:
            fault.watch.healed()
    fault.apply, fault.heal = apply, heal
    return fault


def draw_fault(topo, rng, at, kinds):
    names = sorted(topo.roles)
    kind = rng.choice(kinds)
    name = rng.choice(names)
    if kind in PARTITION_KINDS:
        return partition(topo, rng, at, kind, name)
    if kind == "kill_service":
        d = rng.uniform(0.5, 4)
        return Fault(kind, at, name, d, lambda: topo.signal(name, signal.SIGKILL),
                     lambda: topo.start(name))
    if kind == "pause_service":  # past the hold TTL
        d = HOLD_TTL + rng.uniform(0.5, 3)
        return Fault(kind, at, name, d, lambda: topo.signal(name, signal.SIGSTOP),
                     lambda: topo.signal(name, signal.SIGCONT))
    if kind == "redis_empty":
        d = rng.uniform(0.2, 3)
        return Fault(kind, at, "wiped", d, lambda: topo.servers_cmd("redis-wipe"),
                     lambda: topo.servers_cmd("redis-start"))
    if kind == "redis_restart":
        d = rng.uniform(0.2, 3)
        return Fault(kind, at, "killed", d, lambda: topo.servers_cmd("redis-kill"),
                     lambda: topo.servers_cmd("redis-start"))
    if kind == "redis_pause" and topo.redis_mode == "sentinel":
        # Past the sentinels' 1 s down-after, the replica is promoted while the old primary sleeps.
        d = rng.uniform(0.5, 4)
        return Fault(kind, at, "primary SIGSTOP", d, lambda: topo.redis_signal(signal.SIGSTOP),
                     topo.heal)
    if kind == "redis_pause":
        d = rng.uniform(0.5, 4)
        return Fault(kind, at, "SIGSTOP", d, lambda: topo.servers_cmd("redis-pause"),
                     lambda: topo.servers_cmd("redis-resume"))
    if kind == "redis_failover":
        d = rng.uniform(0.2, 3)
        return Fault(kind, at, "primary SIGKILL", d, lambda: topo.sentinel_cmd("sentinel-kill-primary"),
                     lambda: topo.sentinel_cmd("sentinel-heal"))
    if kind == "redis_switch":
        d = rng.uniform(0.2, 3)
        return Fault(kind, at, "SENTINEL FAILOVER", d, lambda: topo.sentinel_cmd("sentinel-failover"),
                     lambda: topo.sentinel_cmd("sentinel-heal"))
    if kind == "redis_flush":
        return Fault(kind, at, "FLUSHALL", 0, lambda: sh("redis-cli", "-p", topo.redis_primary(), "FLUSHALL"),
                     lambda: None)
    if kind == "pg_crash":
        d = rng.uniform(0.5, 4)
        return Fault(kind, at, "immediate stop", d, lambda: topo.servers_cmd("pg-stop"),
                     lambda: topo.servers_cmd("pg-start"))
    if kind == "pg_failover":  # returns once the replica is promoted and takes writes (~10 s)
        d = rng.uniform(0.5, 4)
        return Fault(kind, at, "primary SIGKILL", d, lambda: topo.patroni_cmd("patroni-kill-primary"),
                     lambda: topo.patroni_cmd("patroni-restore"))
    if kind == "pg_replica_stop":  # the primary goes on alone (synchronous_mode not strict)
        d = rng.uniform(0.5, 4)
        return Fault(kind, at, "replica stopped", d, lambda: topo.patroni_cmd("patroni-stop-replica"),
                     lambda: topo.patroni_cmd("patroni-restore"))
    if kind == "rabbit_restart":  # SIGKILL: unconfirmed publishes and unacked deliveries in flight
        d = rng.uniform(0.5, 4)
        return Fault(kind, at, "broker SIGKILL", d, lambda: topo.rabbit_cmd("rabbitmq-kill", "down"),
                     lambda: topo.rabbit_cmd("rabbitmq-resume", "up"))
    if kind == "rabbit_pause":  # connections open, nothing answers: heartbeats must notice
        d = rng.uniform(0.5, 6)
        return Fault(kind, at, "broker SIGSTOP", d, lambda: topo.rabbit_cmd("rabbitmq-pause", "paused"),
                     lambda: topo.rabbit_cmd("rabbitmq-thaw", "up"))
    if name not in topo.clocked:  # a gateway or the worker: one that serves the sale instead
        name = rng.choice(topo.clocked)
    skew = rng.choice([-1, 1]) * rng.randint(500, MAX_SKEW_MS)
    return Fault(kind, at, f"{name} {skew:+d} ms", rng.uniform(2, 6),
                 lambda: topo.clock(name, skew), lambda: topo.clock(name, -skew))


def schedule(topo, rng, episode, kinds):
    n = rng.randint(1, 3)
    starts = sorted(rng.uniform(2, max(3, episode - 8)) for _ in range(n))
    return [draw_fault(topo, rng, at, kinds) for at in starts] if kinds else []


# --- one run
class Run:
    def __init__(self, topo, seed, episode, buyers, seats):
        self.topo, self.seed, self.episode = topo, seed, episode
        self.buyers, self.seats = buyers, seats
        self.rng = random.Random(seed)
        self.lock = threading.Lock()
        self.paid, self.positions = {}, {}  # paid: order id -> seat ids its 200 answer named
        self.late_orders_accepted, self.holds = [], {}
        self.position_moves = []
        self.errors = collections.Counter()
        self.late = collections.Counter()  # (method, route, status, code) -> answers

    def setup(self):
        A = {"Authorization": "Bearer " + ADMIN}

        # The operator's set-up is not under test, and the previous run's faults may still be
        # settling (a failover finishing, a process back in rotation): a refused or unanswered
        # step is asked again for a while (a venue or event made twice is only an unused row).
        def call(method, path, body=None, headers=None, want=None):
            deadline = time.time() + 60
            while True:
                try:
                    s, b, h = self.topo.call(method, path, body, headers)
                except Exception as ex:  # noqa: BLE001 - a transport failure: ask again
                    s, b, h = None, {"transport": str(ex)}, {}
                if (want is None and s is not None and s < 500) or s == want or time.time() > deadline:
                    if want is not None and s != want:
                        raise RuntimeError(f"set-up {method} {path}: {s} {str(b)[:300]}")
                    return s, b, h
                time.sleep(0.5)

        rows = [{"label": str(i + 1), "seats": min(10, self.seats - i * 10), "grade": "A"}
                for i in range((self.seats + 9) // 10)]
        _, v, _ = call("POST", "/v1/admin/venues", {"name": f"Chaos {self.seed}",
                                                    "sections": [{"name": "S", "rows": rows}]}, A, want=201)
        _, e, _ = call("POST", "/v1/admin/events", {"title": f"Chaos {self.seed}", "venue_id": v["id"]}, A,
                       want=201)
        now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        later = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 86400 * 30))
        s, p, _ = call("POST", f"/v1/admin/events/{e['id']}/performances", {
            "starts_at": later, "sale_opens_at": now, "max_seats_per_order": 2,
            "hold_ttl_seconds": HOLD_TTL,
            "price_grades": [{"grade": "A", "price_cents": 5000, "currency": "KRW"}],
            "queue": {"admit_per_interval": ADMIT, "interval_ms": INTERVAL_MS, "max_active": 10000}}, A,
            want=201)
        self.perf = p["id"]
        call("PATCH", f"/v1/admin/performances/{self.perf}", {"status": "on_sale"}, A, want=200)
        if self.topo.net:  # the partitions' probe account (Watch): a session, a place in the queue
            email = f"chaos-probe-{self.seed}-{random.randrange(10**9)}@example.com"
            call("POST", "/v1/accounts", {"email": email, "password": "password-123", "name": "P"})
            _, b, _ = call("POST", "/v1/sessions", {"email": email, "password": "password-123"})
            U = {"Authorization": "Bearer " + b["session_token"]}
            call("POST", f"/v1/performances/{self.perf}/queue", None, U)
            self.topo.probe = {"perf": self.perf, "session": b["session_token"]}

    def req(self, method, path, body=None, headers=None):
        try:
            s, b, _ = self.topo.call(method, path, body, headers)
        except Exception as ex:  # noqa: BLE001 - a transport failure is an unanswered request
            s, b = None, {"transport": str(ex)}
        if s is None or s >= 400:
            route = "/".join(x if not x[:4] in ("prf_", "ord_", "hld_") else "*" for x in path.split("?")[0].split("/"))
            code = (b.get("error") or {}).get("code") if isinstance(b, dict) else None
            with self.lock:
                self.errors[(method, route, s, code)] += 1
        return s, b

    def buyer(self, i, deadline):
        rng = random.Random(f"{self.seed}-{i}")
        email = f"chaos{self.seed}-{i}-{rng.randrange(10**9)}@example.com"
        while time.time() < deadline:
            s, _ = self.req("POST", "/v1/accounts", {"email": email, "password": "password-123", "name": "C"})
            if s in (201, 409):
                break
            time.sleep(0.2)
        U = None
        while time.time() < deadline and not U:
            s, b = self.req("POST", "/v1/sessions", {"email": email, "password": "password-123"})
            if s in (200, 201):
                U = {"Authorization": "Bearer " + b["session_token"]}
            else:
                time.sleep(0.2)
        ticket, access = None, None
        while time.time() < deadline and not access:
            if not ticket:
                s, b = self.req("POST", f"/v1/performances/{self.perf}/queue", None, U)
                if s in (200, 201):
                    ticket = b["ticket"]
                    self.note_position(i, b.get("position"))
                elif s == 401:
                    return
                else:
                    time.sleep(0.2)
                continue
            s, b = self.req("GET", f"/v1/performances/{self.perf}/queue/status", None, {"Queue-Ticket": ticket})
            if s == 200:
                self.note_position(i, b.get("position"))
                if b["state"] == "admitted":
                    access = b["access_token"]
                elif b["state"] in ("sold_out", "closed"):
                    return
            time.sleep(0.1)
        if not access:
            return
        Z = {**U, "Access-Token": access}
        attempt = 0
        while time.time() < deadline:
            attempt += 1
            s, m = self.req("GET", f"/v1/performances/{self.perf}/seats", None, Z)
            if s != 200:
                time.sleep(0.2)
                continue
            free = [x["id"] for x in m["seats"] if x["state"] == "available"]
            if not free:
                if all(x["state"] == "sold" for x in m["seats"]):
                    return
                time.sleep(0.2)
                continue
            s, h = self.req("POST", f"/v1/performances/{self.perf}/holds",
                            {"seat_ids": rng.sample(free, min(len(free), rng.choice([1, 2])))}, Z)
            if s == 422 and h["error"]["code"] in ("sold_out", "seat_limit_reached"):
                return
            if s != 201:
                time.sleep(0.1)
                continue
            with self.lock:
                self.holds[h["hold_id"]] = h.get("expires_at")
            late = rng.random() < 0.1
            if late:  # a buyer who comes back after the hold expired: the order must be refused
                # Past the expiry by every process's clock: the hold's creator may run ahead.
                time.sleep(HOLD_TTL + 1.5 + MAX_SKEW_MS / 1000)
            s, o = self.req("POST", "/v1/orders", {"hold_id": h["hold_id"]}, U)
            if late:
                with self.lock:
                    self.late[s] += 1
            if late and s in (200, 201):
                with self.lock:
                    self.late_orders_accepted.append(o.get("id"))
            if s not in (200, 201):
                self.req("DELETE", f"/v1/holds/{h['hold_id']}", None, U)
                continue
            key = f"chaos-{self.seed}-{i}-{attempt}"
            while time.time() < deadline + 30:  # a payment in doubt is asked about again
                s, r = self.req("POST", f"/v1/orders/{o['id']}/payment",
                                {"method": "card", "card_token": "tok_ok"}, {**U, "Idempotency-Key": key})
                if s is None or s in (502, 503, 504) or (
                        s == 409 and r["error"]["code"] == "idempotency_in_progress"):
                    time.sleep(0.3)
                    continue
                break
            if s == 200:
                with self.lock:
                    self.paid[o["id"]] = [t["seat_id"] for t in r.get("tickets", [])]
                return

    def note_position(self, i, pos):
        if pos is None:
            return
        with self.lock:
            old = self.positions.setdefault(i, pos)
            if old != pos:
                self.position_moves.append((i, old, pos))

    def crowd_and_faults(self, faults):
        deadline = time.time() + self.episode
        applied = []

        def chaos():
            t0 = time.time()
            for f in faults:
                time.sleep(max(0, t0 + f.at - time.time()))
                f.started = time.time() - t0
                f.applied_at = time.time()
                try:
                    f.apply()
                    applied.append(f)
                    time.sleep(f.heal_after)
                finally:
                    f.heal()
                    f.healed_at = time.time()

        ct = threading.Thread(target=chaos)
        ct.start()
        threads = [threading.Thread(target=self.buyer, args=(i, deadline)) for i in range(self.buyers)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        ct.join()
        return applied

    # --- invariants
    def check(self, skewed):
        pg = lambda sql: api.psql(self.topo.pg, sql)  # noqa: E731
        P, out = self.perf, {}

        def inv(name, ok, detail=""):
            out.setdefault(name, []).append(None if ok else detail)

        # I7: the service takes writes through the edge again within 30 s of the heal. /readyz
        # alone would pass a process whose pool keeps reaching a node that is no longer the
        # primary (a single-host URL): its reads succeed while every write is refused.
        bound, probe = time.time() + 30, (None, None)
        while time.time() < bound:
            probe = self.req("POST", "/v1/accounts", {"email": f"probe{self.seed}-{time.time_ns()}@example.com",
                                                      "password": "password-123", "name": "P"})
            if probe[0] == 201:
                break
            time.sleep(0.5)
        inv("I7", probe[0] == 201, f"no write taken within 30 s of the heal: last answer {probe[0]} {probe[1]}")

        # Then what was in flight settles within the bound, and the rest is judged on it.
        bound = time.time() + 90
        while time.time() < bound:
            doubt = pg(f"""SELECT count(*) FROM idempotency_keys k JOIN orders o ON o.id = k.order_id
                WHERE o.performance_id = '{P}' AND k.state = 'in_progress'""")
            outbox = pg("SELECT count(*) FROM outbox")
            pending = pg(f"""SELECT count(*) FROM orders WHERE performance_id = '{P}'
                AND status = 'pending' AND expires_at < now() - interval '5 seconds'""")
            db_paid = set(pg(f"SELECT id FROM orders WHERE performance_id = '{P}' AND status = 'paid'").split())
            mails = purchase.mailbox(self.topo.mail_dir, db_paid)
            if doubt == "0" and outbox == "0" and pending == "0" and len(mails) == len(db_paid):
                break
            time.sleep(0.5)
        inv("I7", doubt == "0", f"{doubt} payments still in doubt")
        inv("I7", outbox == "0", f"{outbox} outbox rows left")
        inv("I7", pending == "0", f"{pending} pending orders past their expiry")

        # The sale's own checks (tests/e2e/invariants.py), filed under the invariant they prove.
        # The crowd stops at a deadline: a payment still in doubt then may settle as paid later.
        for name, ok, detail in invariants.sale_checks(self.topo.pg, P, self.seats, self.paid,
                                                       sold_out=False, answers_complete=False):
            inv(SALE_INVARIANT[name], ok, f"{name}: {detail}")
        s, st, _ = self.topo.call("GET", f"/v1/admin/performances/{P}/stats", None,
                                  {"Authorization": "Bearer " + ADMIN})
        seats = st.get("seats", {}) if s == 200 else {}
        total = seats.get("sold", 0) + seats.get("held", 0) + seats.get("available", 0)
        inv("I2", total == self.seats, f"sold + held + available = {total}, capacity {self.seats}: {st}")

        inv("I4", not self.late_orders_accepted, f"orders made from expired holds: {self.late_orders_accepted}")

        mails = purchase.mailbox(self.topo.mail_dir, db_paid)
        missing = db_paid - set(mails)
        inv("I5", not missing, f"paid orders without a receipt: {sorted(missing)[:5]}")
        dups = {o: {m for m, _ in v} for o, v in mails.items() if len({m for m, _ in v}) != 1}
        inv("I5", not dups, f"orders with two different receipts: {dups}")

        inv("I6", not self.position_moves, f"places moved: {self.position_moves[:5]}")
        by_pos = collections.Counter(self.positions.values())
        shared = {p: n for p, n in by_pos.items() if n > 1}
        inv("I6", not shared, f"places handed out twice: {shared}")
        ticks = sh("redis-cli", "-p", self.topo.redis_primary(), "ZRANGE",
                     "{p:" + P + "}:ticks", "0", "-1", "WITHSCORES", check=False).stdout.split()
        batches = sorted((int(m.split(":")[0]), int(m.split(":")[1]), int(m.split(":")[2]), float(sc))
                         for m, sc in zip(ticks[0::2], ticks[1::2]))
        # Positions nobody was handed out (the gap after a Redis loss) pass for free: a batch is
        # judged by the places of this run's buyers it admitted. A gap place whose holder came
        # after a batch passed over it counts in the tick that let it in (recorded with its time).
        late = sh("redis-cli", "-p", self.topo.redis_primary(), "ZRANGE",
                  "{p:" + P + "}:late_admitted", "0", "-1", check=False).stdout.split()
        late_at = collections.defaultdict(set)
        for m in late:
            pos, at = m.split(":")
            late_at[float(at)].add(int(pos))
        late_pos = set().union(*late_at.values()) if late_at else set()
        handed = sorted(set(self.positions.values()))
        prev = None
        for seq, lo, hi, at in batches:
            n = sum(1 for p in handed if lo < p <= hi and p not in late_pos)
            n += len(late_at.pop(at, ()))
            inv("I6", n <= ADMIT, f"batch {seq} admitted {n} places ({lo},{hi}], at most {ADMIT}")
            if prev:
                inv("I6", lo >= prev[2] and seq > prev[0], f"batch {seq} ({lo},{hi}] after {prev[:3]}")
                # Admission times are the ticking process's clock: skewed clocks are judged apart.
                if not skewed:
                    inv("I6", at - prev[3] >= INTERVAL_MS - 5,
                        f"batch {seq} {at - prev[3]:.0f} ms after the one before (interval {INTERVAL_MS})")
            prev = (seq, lo, hi, at)
        for at, places in late_at.items():  # ticks that let in late holders only
            inv("I6", len(places) <= ADMIT, f"tick at {at:.0f} admitted {len(places)} late places, at most {ADMIT}")
        # The public admission log PostgreSQL chained through the faults, checked by the verifier
        # buyers are given. Skewed clocks are judged apart (admission times are the ticking
        # process's clock): then the chain and the ranges only.
        log, after = [], 0
        while True:
            s, b, _ = self.topo.call("GET", f"/v1/performances/{P}/queue/audit?after={after}")
            if s != 200 or not b.get("entries") or b["entries"][-1]["seq"] <= after:
                break
            log += b["entries"]
            after = log[-1]["seq"]
        inv("I6", s == 200, f"admission log: {s} {b}")
        problems = verify_admission_log.verify(log)
        if skewed:
            problems = [p for p in problems if "ms after" not in p and "admitted before" not in p]
        inv("I6", not problems, f"admission log: {problems[:5]}")
        held = [p for p in handed if p <= max((e["to_position"] for e in log), default=0)]
        unlogged = [p for p in held if not verify_admission_log.admitting_entry(log, p)]
        inv("I6", not unlogged, f"positions admitted but in no log entry: {unlogged[:10]}")
        return {k: [d for d in v if d] for k, v in out.items()}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--seed", type=int, default=int(time.time()) % 100000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--episode", type=float, default=30)
    ap.add_argument("--buyers", type=int, default=60)
    ap.add_argument("--seats", type=int, default=30)
    ap.add_argument("--processes", type=int, default=2)
    ap.add_argument("--redis", choices=["sentinel", "plain"], default="sentinel",
                    help="a primary + replica under three Sentinels (default), or one Redis")
    ap.add_argument("--pg", choices=["patroni", "single"], default="patroni",
                    help="etcd + a primary and a synchronous replica under Patroni (default), or one "
                         "PostgreSQL")
    ap.add_argument("--pattern", choices=["B", "A"], default="B",
                    help="N processes doing everything (default), or a worker, N API processes and "
                         "two gateways with RabbitMQ")
    ap.add_argument("--summary", help="write the summary as JSON here")
    ap.add_argument("--faults", default=",".join(KINDS),
                    help="kinds to draw from, comma-separated, or `none` (default: all)")
    ap.add_argument("--keep", action="store_true", help="keep the work folder")
    a = ap.parse_args()
    other = [k for by_mode, mode in ((REDIS_KINDS, a.redis), (PG_KINDS, a.pg), (PATTERN_KINDS, a.pattern))
             for m, ks in by_mode.items() if m != mode for k in ks if k not in by_mode[mode]]
    kinds = [k for k in a.faults.split(",") if k in KINDS and k not in other]
    # What a replay needs besides the seed: the schedule is drawn from the same kinds.
    topology = "".join(f" --{o} {v}" for o, v, d in (("pattern", a.pattern, "B"), ("pg", a.pg, "patroni"),
                                                      ("redis", a.redis, "sentinel"),
                                                      ("faults", a.faults, ",".join(KINDS))) if v != d)
    if a.pattern == "A" and any(k in PARTITION_KINDS for k in kinds):
        # The broker listens on loopback only, which a process in a namespace cannot reach.
        print(f"chaos: no network partitions in pattern A (the broker is on loopback only): "
              f"{', '.join(k for k in kinds if k in PARTITION_KINDS)} dropped", flush=True)
        kinds = [k for k in kinds if k not in PARTITION_KINDS]
    # SIGTERM and SIGHUP end the run through the same cleanup as an error or Ctrl-C (finally).
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, lambda signum, _frame: sys.exit(128 + signum))
    net = None
    if any(k in PARTITION_KINDS for k in kinds):
        why = netns.unavailable()
        if why:
            print(f"chaos: no network partitions ({why}): {', '.join(k for k in kinds if k in PARTITION_KINDS)} "
                  "dropped", flush=True)
            kinds = [k for k in kinds if k not in PARTITION_KINDS]
        else:
            stale = netns.remove_stale()
            if stale:
                print(f"chaos: removed what an earlier harness left: {' '.join(stale)}", flush=True)
            net = netns.Net(a.processes)
            atexit.register(net.close)  # also when the topology never got to its own stop
    work = tempfile.mkdtemp(prefix="tk-chaos-")
    os.chmod(work, 0o755)
    print(f"chaos: seed {a.seed}, {a.runs} runs of {a.episode:.0f} s, {a.buyers} buyers for {a.seats} "
          f"seats, pattern {a.pattern} with {a.processes} {'API' if a.pattern == 'A' else 'service'} processes, "
          f"PostgreSQL {a.pg}, Redis {a.redis}"
          + (f", each process in a network namespace ({net.clients})" if net else "") + f" (work: {work})",
          flush=True)
    topo = Topology(a.bin, a.processes, work, a.redis, a.pg, net, a.pattern)
    faults_by_kind, violations, failed_runs = collections.Counter(), collections.Counter(), []
    done, harness_error = 0, None  # runs checked; what stopped the harness, if anything did
    started = time.time()
    try:
        if "clock_skew" in kinds and not topo.clock(topo.clocked[0], 0):
            kinds.remove("clock_skew")  # a release build has no clock to move
        for k in range(a.runs):
            seed = a.seed + k
            run = Run(topo, seed, a.episode, a.buyers, a.seats)
            faults = schedule(topo, run.rng, a.episode, kinds)
            run.setup()
            try:
                applied = run.crowd_and_faults(faults)
                for f in applied:  # a partition's recovery is judged before the heal below helps
                    if f.watch:
                        f.watch.finish(frozen_windows(applied, f))
            finally:
                topo.heal()
            found = run.check(any(f.kind == "clock_skew" for f in applied))
            for f in applied:
                if f.watch:
                    found.setdefault("I8", []).extend(f.watch.violations)
            for f in applied:
                faults_by_kind[f.kind] += 1
            bad = {k2: v for k2, v in found.items() if v}
            for k2, v in bad.items():
                violations[k2] += len(v)
            top = ", ".join(f"{m} {r} {s} {c or ''} x{n}" for (m, r, s, c), n in run.errors.most_common(12))
            print(f"run {k + 1}/{a.runs} seed {seed}: {', '.join(map(str, applied)) or 'no fault'}; "
                  f"{len(run.paid)} paid of {a.seats} seats; late orders {dict(run.late)}; errors: {top or 'none'}; "
                  + ("OK" if not bad else "VIOLATIONS " + json.dumps(bad)[:3000]), flush=True)
            if bad:
                failed_runs.append(seed)
                print(f"  replay: bash scripts/chaos.sh --seed {seed} --runs 1 --episode {a.episode:g}{topology}",
                      flush=True)
            done += 1
    except Exception as ex:  # noqa: BLE001 - the harness itself failed: stop, and say so
        traceback.print_exc()
        harness_error = f"seed {a.seed + done}: {type(ex).__name__}: {ex}".replace("|", "/").replace("\n", " ")[:500]
        print(f"chaos: harness error after {done} runs, at {harness_error}", flush=True)
    finally:
        topo.stop()
        if a.keep or failed_runs or harness_error:
            print(f"work folder kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    # `runs`: the runs checked (fewer than asked for when the harness stopped); a harness error
    # counts as one failed run, so the exit status and the record never hide it.
    summary = {"seed": a.seed, "runs": done, "runs_asked": a.runs, "episode_s": a.episode, "buyers": a.buyers,
               "seats": a.seats, "pattern": a.pattern, "pg": a.pg, "redis": a.redis, "faults": dict(faults_by_kind), "violations": dict(violations),
               "failed_runs": failed_runs, "harness_error": harness_error,
               "minutes": round((time.time() - started) / 60, 1)}
    print("summary: " + json.dumps(summary))
    if a.summary:
        with open(a.summary, "w") as f:
            json.dump(summary, f, indent=2)
    failed = len(failed_runs) + (1 if harness_error else 0)
    print(f"{done - len(failed_runs)} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
