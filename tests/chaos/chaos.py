#!/usr/bin/env python3
"""Seeded chaos harness: a crowd buys while faults drawn from a seed hit the topology; after each
run, with every fault healed, the invariants are checked.

Topology (started once): PostgreSQL, Redis and an SMTP sink (tests/support/servers.sh), service
processes in pattern B behind HAProxy and the nginx + ModSecurity edge (scripts/ha.sh), TLS from a
CA made for the run. Each run creates a fresh performance, lets a crowd of buyers (threads, real
HTTP through the edge) join, wait, hold, order and pay, and applies a schedule of faults drawn from
the run's seed: kill -9 of a service process, SIGSTOP of one past the hold TTL, Redis restarted
empty, restarted or paused, PostgreSQL crashed (immediate stop) and restarted, clock skew on one
process (test builds). Run k of `--seed S` uses seed S+k; a failing run prints the command that
replays exactly its schedule (`--seed S+k --runs 1`).

Invariants (checked per run, on what clients were told and what PostgreSQL, Redis and the SMTP sink
hold):
  I1 no seat with two tickets; every payment answered 200 is a paid order with those tickets
  I2 sold + held + available = capacity, and PostgreSQL's sold rows = its tickets
  I3 one charge per paid order; no charge without a paid order (or a void)
  I4 no order made from a hold after its expiry (deliberately late orders are refused)
  I5 one receipt per paid order at the SMTP sink (one Message-ID; copies of it are allowed)
  I6 nobody's place moves, no place handed out twice; admission batches never overlap or go
     backwards and never exceed the configured size (when Redis kept them)
  I7 everything in flight ends within a bound: no payment left in doubt, the outbox drained, no
     pending order past its expiry
Usage: chaos.py --bin SERVICE [--seed S] [--runs N] [--episode SECONDS] [--summary FILE]"""
import argparse, collections, json, os, random, shutil, signal, socket, subprocess, sys, tempfile
import threading, time, traceback

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "e2e"))
import api  # noqa: E402
import invariants  # noqa: E402
import purchase  # noqa: E402

SERVERS = os.path.join(ROOT, "tests", "support", "servers.sh")
HA = os.path.join(ROOT, "scripts", "ha.sh")
ADMIN = "chaos-admin"
HOLD_TTL = 8           # seconds: short, so a paused process outlives holds within a run
ADMIT, INTERVAL_MS = 20, 100


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def sh(*args, check=True):
    return subprocess.run(args, capture_output=True, text=True, check=check)


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
    def __init__(self, binary, processes, work, redis_mode):
        self.bin, self.work, self.procs = binary, work, {}
        self.redis_mode = redis_mode
        self.servers = os.path.join(work, "servers")
        sh("bash", SERVERS, "start", self.servers)
        self.env = dict(os.environ)
        read_env(os.path.join(self.servers, "env"), self.env)
        if redis_mode == "sentinel":
            # A primary, a replica and three sentinels; the processes find the primary through them.
            self.sentinel = os.path.join(work, "sentinel")
            sh("bash", SERVERS, "sentinel-start", self.sentinel)
            read_env(os.path.join(self.sentinel, "env"), self.env)
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
        self.ports = {f"service-{i}": (free_port(), free_port()) for i in range(1, processes + 1)}
        for name in self.ports:
            self.start(name)
        tls = os.path.join(work, "tls")
        if ha("ha_tls", tls).returncode:
            raise RuntimeError("could not make the local CA")
        lb, edge = free_port(), free_port()
        servers = [f"{n}=127.0.0.1:{p}/{o}" for n, (p, o) in self.ports.items()]
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
    def start(self, name):
        port, ops = self.ports[name]
        env = dict(self.env, TICKETING_HTTP_PORT=str(port), TICKETING_OPS_PORT=str(ops))
        log = open(os.path.join(self.work, name + ".log"), "ab")
        self.procs[name] = subprocess.Popen([self.bin], env=env, stdout=log, stderr=log,
                                            stdin=subprocess.DEVNULL)
        call = api.make_call(f"http://127.0.0.1:{ops}")
        self.wait(lambda: call("GET", "/readyz")[0] == 200, 60, name)

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

    def redis_primary(self):
        """Port of the Redis that takes writes now."""
        if self.redis_mode == "sentinel":
            return self.sentinel_cmd("sentinel-primary").splitlines()[-1]
        return self.redis_port

    def redis_signal(self, sig):
        """Signals the current primary (Sentinel mode); returns its pid file."""
        port = self.redis_primary()
        pidf = os.path.join(self.sentinel, "n" + port, "redis.pid")
        os.kill(int(open(pidf).read()), sig)
        self.paused_redis = pidf if sig == signal.SIGSTOP else None

    def clock(self, name, advance_ms):
        """Moves one process's clock (test builds); False where the route does not exist. The
        process reads the PROXY protocol on its port: the request starts with a v1 header."""
        port, _ = self.ports[name]
        body = json.dumps({"advance_ms": advance_ms}).encode()
        req = (b"PROXY TCP4 127.0.0.1 127.0.0.1 1 1\r\nPOST /v1/test/clock HTTP/1.1\r\n"
               b"Host: chaos\r\nConnection: close\r\nContent-Type: application/json\r\n"
               b"Authorization: Bearer " + ADMIN.encode() + b"\r\nContent-Length: "
               + str(len(body)).encode() + b"\r\n\r\n" + body)
        with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
            s.sendall(req)
            status = s.recv(64).split(b" ")[1]
        return status == b"200"

    def heal(self):
        for name in self.ports:
            if not self.alive(name):
                self.start(name)
            else:
                self.signal(name, signal.SIGCONT)
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
        if sh("psql", self.pg, "-Atc", "SELECT 1", check=False).stdout.strip() != "1":
            self.servers_cmd("pg-start")
        for name, (_, ops) in self.ports.items():
            call = api.make_call(f"http://127.0.0.1:{ops}")
            self.wait(lambda: call("GET", "/readyz")[0] == 200, 60, name)

    def stop(self):
        ha("ha_stop_pid", os.path.join(self.work, "edge", "nginx.master"), "QUIT")
        ha("ha_stop_pid", os.path.join(self.work, "haproxy.pid"))
        for name in self.ports:
            self.signal(name, signal.SIGCONT)
            self.signal(name, signal.SIGKILL)
        sh("bash", SERVERS, "stop", self.servers, check=False)
        if self.redis_mode == "sentinel":
            sh("bash", SERVERS, "sentinel-stop", self.sentinel, check=False)


# --- faults: each applies itself and returns how to heal; `rng` draws its parameters
class Fault:
    def __init__(self, kind, at, detail, heal_after, apply, heal):
        self.kind, self.at, self.detail, self.heal_after = kind, at, detail, heal_after
        self.apply, self.heal = apply, heal
        self.started = at  # when it was applied, seconds into the run (later if one before ran long)

    def __str__(self):
        return f"{self.kind}@{self.started:.1f}s({self.detail}, {self.heal_after:.1f}s)"


SALE_INVARIANT = {"no seat in two paid answers": "I1",
                  "every paid answer backed by its ticket row": "I1",
                  "every payment answered 200 is a paid order": "I1",
                  "fence rows agree": "I2",
                  "exactly one charge per paid order": "I3",
                  "no charge without a paid order": "I3"}

# Redis faults by topology: one Redis, or a primary + replica under three Sentinels.
REDIS_KINDS = {"plain": ["redis_empty", "redis_restart", "redis_pause"],
               "sentinel": ["redis_failover", "redis_switch", "redis_flush", "redis_pause"]}
KINDS = ["kill_service", "pause_service", "redis_empty", "redis_restart", "redis_pause",
         "redis_failover", "redis_switch", "redis_flush", "pg_crash", "clock_skew"]


def draw_fault(topo, rng, at, kinds):
    names = sorted(topo.ports)
    kind = rng.choice(kinds)
    name = rng.choice(names)
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
    skew = rng.choice([-1, 1]) * rng.randint(500, 2500)
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
        call, A = self.topo.call, {"Authorization": "Bearer " + ADMIN}
        rows = [{"label": str(i + 1), "seats": min(10, self.seats - i * 10), "grade": "A"}
                for i in range((self.seats + 9) // 10)]
        _, v, _ = call("POST", "/v1/admin/venues", {"name": f"Chaos {self.seed}",
                                                    "sections": [{"name": "S", "rows": rows}]}, A)
        _, e, _ = call("POST", "/v1/admin/events", {"title": f"Chaos {self.seed}", "venue_id": v["id"]}, A)
        now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        later = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 86400 * 30))
        s, p, _ = call("POST", f"/v1/admin/events/{e['id']}/performances", {
            "starts_at": later, "sale_opens_at": now, "max_seats_per_order": 2,
            "hold_ttl_seconds": HOLD_TTL,
            "price_grades": [{"grade": "A", "price_cents": 5000, "currency": "KRW"}],
            "queue": {"admit_per_interval": ADMIT, "interval_ms": INTERVAL_MS, "max_active": 10000}}, A)
        if s != 201:
            raise RuntimeError(f"performance: {s} {p}")
        self.perf = p["id"]
        call("PATCH", f"/v1/admin/performances/{self.perf}", {"status": "on_sale"}, A)

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
                time.sleep(HOLD_TTL + 1.5)
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
                try:
                    f.apply()
                    applied.append(f)
                    time.sleep(f.heal_after)
                finally:
                    f.heal()

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

        # I7 first: what was in flight settles within the bound, then the rest is judged on it.
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
        # judged by the places of this run's buyers it admitted.
        handed = sorted(set(self.positions.values()))
        prev = None
        for seq, lo, hi, at in batches:
            n = sum(1 for p in handed if lo < p <= hi)
            inv("I6", n <= ADMIT, f"batch {seq} admitted {n} places ({lo},{hi}], at most {ADMIT}")
            if prev:
                inv("I6", lo >= prev[2] and seq > prev[0], f"batch {seq} ({lo},{hi}] after {prev[:3]}")
                # Admission times are the ticking process's clock: skewed clocks are judged apart.
                if not skewed:
                    inv("I6", at - prev[3] >= INTERVAL_MS - 5,
                        f"batch {seq} {at - prev[3]:.0f} ms after the one before (interval {INTERVAL_MS})")
            prev = (seq, lo, hi, at)
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
    ap.add_argument("--summary", help="write the summary as JSON here")
    ap.add_argument("--faults", default=",".join(KINDS),
                    help="kinds to draw from, comma-separated, or `none` (default: all)")
    ap.add_argument("--keep", action="store_true", help="keep the work folder")
    a = ap.parse_args()
    work = tempfile.mkdtemp(prefix="tk-chaos-")
    os.chmod(work, 0o755)
    print(f"chaos: seed {a.seed}, {a.runs} runs of {a.episode:.0f} s, {a.buyers} buyers for {a.seats} "
          f"seats, {a.processes} service processes behind the balancer, Redis {a.redis} (work: {work})",
          flush=True)
    topo = Topology(a.bin, a.processes, work, a.redis)
    faults_by_kind, violations, failed_runs = collections.Counter(), collections.Counter(), []
    started = time.time()
    try:
        other = [k for m, ks in REDIS_KINDS.items() if m != a.redis for k in ks if k not in REDIS_KINDS[a.redis]]
        kinds = [k for k in a.faults.split(",") if k in KINDS and k not in other]
        if "clock_skew" in kinds and not topo.clock(sorted(topo.ports)[0], 0):
            kinds.remove("clock_skew")  # a release build has no clock to move
        for k in range(a.runs):
            seed = a.seed + k
            run = Run(topo, seed, a.episode, a.buyers, a.seats)
            faults = schedule(topo, run.rng, a.episode, kinds)
            run.setup()
            try:
                applied = run.crowd_and_faults(faults)
            finally:
                topo.heal()
            found = run.check(any(f.kind == "clock_skew" for f in applied))
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
                print(f"  replay: bash scripts/chaos.sh --seed {seed} --runs 1 --episode {a.episode:g}",
                      flush=True)
    except Exception:
        traceback.print_exc()
        failed_runs.append("harness error")
    finally:
        topo.stop()
        if a.keep or failed_runs:
            print(f"work folder kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    summary = {"seed": a.seed, "runs": a.runs, "episode_s": a.episode, "buyers": a.buyers,
               "seats": a.seats, "faults": dict(faults_by_kind), "violations": dict(violations),
               "failed_runs": failed_runs, "minutes": round((time.time() - started) / 60, 1)}
    print("summary: " + json.dumps(summary))
    if a.summary:
        with open(a.summary, "w") as f:
            json.dump(summary, f, indent=2)
    print(f"{a.runs - len(failed_runs)} passed, {len(failed_runs)} failed")
    return 1 if failed_runs else 0


if __name__ == "__main__":
    sys.exit(main())
