#!/usr/bin/env bash
# Tests of the Prometheus rules and of the local Prometheus that scripts/run-local.sh starts:
#   - promtool check rules on rules/*.yml;
#   - every metric the rules read is one the service exports (its name in src/);
#   - every alert is described in README.md and tested in tests/;
#   - promtool test rules on tests/*.yml, counted per test group;
#   - promtool check config on the configuration scripts/lib.sh generates for each layout;
#   - a real Prometheus (scripts/lib.sh's prom_start) on a free loopback port scraping a stub
#     target (python's http.server serving a metrics file): /-/ready, the rules loaded, the
#     target up == 1 and its series queryable through the HTTP API; stopped on exit, pass or fail.
# Prints one line per check and ends with "N passed, M failed"; exits 1 when anything failed.
# Needs prometheus and promtool (Debian's prometheus package: bash scripts/deps.sh), python3, curl.
set -uo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
# shellcheck source=scripts/lib.sh
. "$ROOT/scripts/lib.sh"
cd "$HERE" || exit 1

passed=0 failed=0
pass() { passed=$((passed + 1)); printf 'ok    %s\n' "$*"; }
fail() { failed=$((failed + 1)); printf 'FAIL  %s\n' "$*"; }

for tool in promtool prometheus python3 curl; do
  command -v "$tool" >/dev/null || { echo "$tool not found (bash scripts/deps.sh)" >&2; echo "0 passed, 1 failed"; exit 1; }
done

TMP=$(mktemp -d "${TMPDIR:-/tmp}/prom-test.XXXXXX")
STUB_PID=
cleanup() {
  prom_stop "$TMP/prom" 2>/dev/null
  if [ -n "$STUB_PID" ]; then kill "$STUB_PID" 2>/dev/null; wait "$STUB_PID" 2>/dev/null; fi
  rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- the rules parse -----------------------------------------------------------------------------
if out=$(promtool check rules rules/*.yml 2>&1); then
  pass "promtool check rules: $(printf '%s\n' "$out" | awk '/rules found/ { n += $2 } END { print n }') rules"
else
  printf '%s\n' "$out"
  fail "promtool check rules"
fi

# --- the rules read only what the service exports ------------------------------------------------
# Metric names in the rules' expressions, less PromQL words, label names and recorded series
# (names with a colon), each looked up as a string literal in src/ (a histogram by its family).
if out=$(python3 - "$ROOT/src" rules/*.yml <<'PY'
import pathlib, re, sys
src = pathlib.Path(sys.argv[1])
code = "\n".join(p.read_text(errors="replace") for p in src.rglob("*") if p.suffix in (".cpp", ".hpp"))
words = {"sum", "max", "min", "rate", "increase", "delta", "histogram_quantile", "min_over_time",
         "and", "or", "unless", "on", "by", "without", "offset", "up"}
labels = {"route", "status", "method", "le", "job", "instance", "performance", "route_class",
          "upstream", "process", "role", "topic"}
names = set()
for f in sys.argv[2:]:
    exprs, indent = [], None  # the text of every `expr:`, inline or a block under it
    for line in pathlib.Path(f).read_text().splitlines():
        depth = len(line) - len(line.lstrip())
        if indent is not None and (not line.strip() or depth > indent):
            exprs.append(line)
            continue
        indent = None
        m = re.match(r"(\s*)expr:\s*(.*)", line)
        if m:
            indent = len(m.group(1))
            exprs.append(m.group(2))
    for line in exprs:
        line = re.sub(r'"[^"]*"', "", line)          # label values
        line = re.sub(r"\[[0-9smh]+\]", "", line)   # range selectors
        for w in re.findall(r"[A-Za-z_:][A-Za-z0-9_:]*", line):
            if ":" in w or w in words or w in labels or "_" not in w:
                continue
            names.add(w)
missing = []
for n in sorted(names):
    family = re.sub(r"_(bucket|count|sum)$", "", n)
    if f'"{n}"' not in code and f'"{family}"' not in code:
        missing.append(n)
print(" ".join(sorted(names)))
if missing:
    print("not exported by src/: " + " ".join(missing))
    sys.exit(1)
PY
); then
  pass "the rules read $(printf '%s' "$out" | wc -w) metrics, each exported by src/"
else
  printf '%s\n' "$out"
  fail "the rules read metrics the service does not export"
fi

# --- every alert is described in README.md and tested in tests/ ----------------------------------
undocumented=() untested=()
for a in $(sed -n 's/^ *- alert: *//p' rules/alerts.yml); do
  grep -q "\`$a\`" README.md || undocumented+=("$a")
  grep -q "alertname: $a\$" tests/*.yml || untested+=("$a")
done
if [ ${#undocumented[@]} = 0 ] && [ ${#untested[@]} = 0 ]; then
  pass "every alert has a row in README.md and a test in tests/"
else
  fail "alerts not in README.md: ${undocumented[*]:-none}; without a test: ${untested[*]:-none}"
fi

# --- unit tests of the rules, one count per test group -------------------------------------------
for f in tests/*.yml; do
  groups=$(grep -c '^  - name:' "$f")
  out=$(promtool test rules "$f" 2>&1)
  rc=$?
  if [ $rc = 0 ]; then
    passed=$((passed + groups))
    printf 'ok    %s: %d test groups\n' "$f" "$groups"
  else
    printf '%s\n' "$out"
    # promtool names each failing group ("name: <group>,"); a file it could not run fails whole.
    bad=$(printf '%s\n' "$out" | sed -n 's/^ *name: \(.*\),$/\1/p' | sort -u | wc -l)
    [ "$bad" -gt 0 ] || bad=$groups
    passed=$((passed + groups - bad))
    failed=$((failed + bad))
    printf 'FAIL  %s: %d of %d test groups failed\n' "$f" "$bad" "$groups"
  fi
done

# --- the generated configuration of each layout ---------------------------------------------------
check_config() {
  local name=$1
  shift
  mkdir -p "$TMP/cfg"
  prom_config "$TMP/cfg/$name.yml" 59090 "$@"
  if out=$(promtool check config "$TMP/cfg/$name.yml" 2>&1); then
    pass "promtool check config: $name ($# targets)"
  else
    printf '%s\n' "$out"
    fail "promtool check config: $name"
  fi
}
check_config pattern-b service=all=127.0.0.1:9090
check_config pattern-a worker-1=worker=127.0.0.1:9191 api-1=api=127.0.0.1:9091 \
  api-2=api=127.0.0.1:9092 gateway-1=gateway=127.0.0.1:9291
check_config ha-pattern-a worker-1=worker=127.0.0.1:9191 api-1=api=127.0.0.1:9091 \
  api-2=api=127.0.0.1:9092 gateway-1=gateway=127.0.0.1:9291 gateway-2=gateway=127.0.0.1:9292
check_config ha-pattern-b service-1=all=127.0.0.1:9091 service-2=all=127.0.0.1:9092

# --- a real Prometheus scrapes a stub target ------------------------------------------------------
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
# query EXPR: the first result's value of an instant query, empty when there is none.
query() {
  curl -s --max-time 5 "http://127.0.0.1:$PROM_PORT/api/v1/query" --data-urlencode "query=$1" |
    python3 -c 'import json, sys
r = json.load(sys.stdin)["data"]["result"]
print(r[0]["value"][1] if r else "")' 2>/dev/null
}
live_test() {
  mkdir -p "$TMP/stub" "$TMP/prom"
  # As the service renders it (src/common/metrics.cpp): HELP, TYPE, then the series.
  cat >"$TMP/stub/metrics" <<'METRICS'
# HELP http_requests_total HTTP requests by route, method, status
# TYPE http_requests_total counter
http_requests_total{method="GET",route="/v1/performances/{pid}/queue/status",status="200"} 42
# HELP queue_waiting People waiting (tail - serving)
# TYPE queue_waiting gauge
queue_waiting{performance="stub-performance"} 7
# HELP outbox_pending Outbox rows not yet delivered (or not yet confirmed)
# TYPE outbox_pending gauge
outbox_pending 0
METRICS
  STUB_PORT=$(free_port)
  python3 -m http.server --bind 127.0.0.1 --directory "$TMP/stub" "$STUB_PORT" >"$TMP/stub.log" 2>&1 &
  STUB_PID=$!
  local _
  for _ in $(seq 50); do port_busy "$STUB_PORT" && break; sleep 0.1; done
  port_busy "$STUB_PORT" || { echo "the stub target did not start" >&2; return 1; }

  PROM_PORT=$(free_port)
  prom_config "$TMP/prom/prometheus.yml" "$PROM_PORT" "stub=all=127.0.0.1:$STUB_PORT"
  # prom_start dies on failure: in a subshell, so the failure is counted here.
  (prom_start "$TMP/prom" "$PROM_PORT") || return 1
  echo "Prometheus ready on 127.0.0.1:$PROM_PORT (pid $(prom_pid "$TMP/prom"))"

  local groups want
  want=$(cat rules/*.yml | grep -c '^  - name:')
  groups=$(curl -s --max-time 5 "http://127.0.0.1:$PROM_PORT/api/v1/rules" |
    python3 -c 'import json, sys; print(len(json.load(sys.stdin)["data"]["groups"]))')
  [ "$groups" = "$want" ] || { echo "rule groups loaded: $groups, expected $want" >&2; return 1; }

  local up=
  for _ in $(seq 60); do
    up=$(query 'up{job="ticketing",process="stub",role="all"}')
    [ "$up" = 1 ] && break
    sleep 0.5
  done
  [ "$up" = 1 ] || { echo "up of the stub target: '${up}' after 30 s" >&2; tail -n 20 "$TMP/prom/prometheus.log" >&2; return 1; }
  [ "$(query 'queue_waiting{performance="stub-performance",process="stub"}')" = 7 ] ||
    { echo "queue_waiting from the stub not found" >&2; return 1; }
  # Its own job is scraped on its own schedule: not necessarily before the stub's first scrape.
  for _ in $(seq 60); do
    up=$(query 'up{job="prometheus"}')
    [ "$up" = 1 ] && break
    sleep 0.5
  done
  [ "$up" = 1 ] || { echo "Prometheus does not scrape itself: up '${up}' after 30 s" >&2; return 1; }
}
if live_test; then
  pass "a started Prometheus loads the rules and scrapes the stub target (up == 1)"
else
  fail "a started Prometheus loads the rules and scrapes the stub target"
fi
pid=$(prom_pid "$TMP/prom")
prom_stop "$TMP/prom"
if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
  fail "Prometheus stopped by prom_stop"
else
  pass "Prometheus stopped by prom_stop"
fi

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
