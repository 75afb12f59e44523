#!/usr/bin/env bash
# Seeded chaos runs (tests/chaos/chaos.py): the topology is started once (PostgreSQL under Patroni:
# etcd, a primary and a synchronous replica, or one PostgreSQL with --pg single; Redis under three
# Sentinels, or one Redis with --redis plain; an SMTP sink; pattern-B service processes, or with
# --pattern A a worker, API processes, two gateways and RabbitMQ, behind HAProxy and the nginx +
# ModSecurity edge), then each run sends a crowd of buyers at a fresh performance while faults
# drawn from the run's seed hit it (processes killed or paused, Redis failed over, emptied or
# paused, the PostgreSQL primary killed or its replica stopped, the broker killed or paused,
# clocks skewed, network partitions), heals them and checks the invariants I1-I8
# (docs/RELIABILITY.md). A failing run prints the command that replays it exactly.
#   bash scripts/chaos.sh [--seed S] [--runs N] [--episode SECONDS] [--pattern B|A]
#                         [--pg patroni|single] [--redis sentinel|plain] [--faults KIND,...] [--record]
# Run k uses seed S+k. --record adds the summary (runs, faults by kind, violations) as a dated row
# to docs/RELIABILITY.md. The runs use the test build (ASan + UBSan, and the test clock that the
# clock-skew fault moves); the service alone is built first when missing or stale.
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$TK_ROOT"

record=0 args=()
for a in "$@"; do
  if [ "$a" = --record ]; then record=1; else args+=("$a"); fi
done
bash scripts/deps.sh
log "building the service's test binary (build/test)"
bash scripts/build.sh test ticketing >/dev/null
summary=$(mktemp /tmp/tk-chaos-summary-XXXX.json)
# The runs use a copy of the binary: a rebuild while they run (hours for --runs 200) must not
# change the service that a restarted process runs.
bin_dir=$(mktemp -d /tmp/tk-chaos-bin-XXXX)
trap 'rm -rf "$summary" "$bin_dir"' EXIT
cp build/test/src/main/ticketing "$bin_dir/ticketing"
rc=0
python3 tests/chaos/chaos.py --bin "$bin_dir/ticketing" --summary "$summary" "${args[@]}" || rc=$?
if [ $record = 1 ] && [ -s "$summary" ]; then
  python3 - "$summary" docs/RELIABILITY.md <<'PY'
import json, sys, time
s = json.load(open(sys.argv[1]))
faults = ", ".join(f"{k} {v}" for k, v in sorted(s["faults"].items())) or "none"
viol = ", ".join(f"{k} {v}" for k, v in sorted(s["violations"].items())) or "0"
flags = "".join(f" --{k} {s[k]:g}" if isinstance(s[k], float) else f" --{k} {s[k]}"
                for k, d in (("episode_s", 30.0), ("pattern", "B"), ("pg", "patroni"), ("redis", "sentinel"))
                if s.get(k, d) != d).replace("--episode_s", "--episode")
asked = s.get("runs_asked", s["runs"])
# A run the harness could not finish is said so, with the seed it stopped at.
stopped = (f", stopped by a harness error after {s['runs']} runs ({s['harness_error']})"
           if s.get("harness_error") else (f", stopped after {s['runs']} runs" if s["runs"] < asked else ""))
row = (f"| {time.strftime('%Y-%m-%d', time.gmtime())} | `bash scripts/chaos.sh --seed {s['seed']} "
       f"--runs {asked}{flags}`{stopped} | {s['runs']} x {s['episode_s']:g} s, {s['buyers']} buyers / {s['seats']} "
       f"seats | {faults} | {viol} | {s['minutes']} min |\n")
path = sys.argv[2]
text = open(path).read()
marker = "<!-- chaos runs: scripts/chaos.sh --record adds rows above this line -->"
open(path, "w").write(text.replace(marker, row.rstrip("\n") + "\n" + marker))
print("recorded in " + path)
PY
fi
exit $rc
