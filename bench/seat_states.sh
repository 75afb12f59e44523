#!/usr/bin/env bash
# What one seat-map build costs Redis, late in a stadium's on-sale: the reads the service makes
# (`Holds::seat_states`: GET of the version, HGETALL of the holds, the `kSoldMarks` script reading
# the sold bitmap, SCARD and BITCOUNT in one step) against SMEMBERS of the sold set, which is what a build read before the bitmap
# and what it falls back to when the bitmap is not exact. Redis's own time per call (INFO
# commandstats), so the figure is what every other Redis client waits behind, not the client's
# parsing. A throw-away redis-server on a free loopback port in a temp folder, pinned to core 0
# (redis-benchmark on core 1), stopped on exit.
#
#   bash bench/seat_states.sh [--seats N] [--sold N] [--held N] [--calls N]
#
# The state is made as the scripts make it: seat ids like the catalogue's, N sold markers in the
# set and as bits of the venue's layout order, the holds hash with `held` entries.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
# shellcheck source=scripts/lib.sh
. scripts/lib.sh

SEATS=100000 SOLD=80000 HELD=3260 CALLS=300
while [ $# -gt 0 ]; do
  case $1 in
    --seats) SEATS=${2:?}; shift ;;
    --sold) SOLD=${2:?}; shift ;;
    --held) HELD=${2:?}; shift ;;
    --calls) CALLS=${2:?}; shift ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    *) die "unknown option $1 (see --help)" ;;
  esac
  shift
done
[ $((SOLD + HELD)) -le "$SEATS" ] || die "--sold plus --held must not exceed --seats"
command -v redis-server >/dev/null || die "redis-server missing (bash scripts/deps.sh bench)"
[ "$(nproc)" -ge 2 ] || die "needs 2 CPUs (Redis on one, the client on the other)"

T=$(mktemp -d /tmp/tk-seat-states.XXXXXX)
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cleanup() {
  redis-cli -p "$PORT" shutdown nosave >/dev/null 2>&1 || true
  rm -rf "$T"
}
trap cleanup EXIT

taskset -c 0 redis-server --port "$PORT" --bind 127.0.0.1 --dir "$T" --save '' --appendonly no \
  --daemonize yes --logfile "$T/redis.log" --pidfile "$T/redis.pid"
for _ in $(seq 50); do redis_ping "$PORT" && break; sleep 0.1; done
redis_ping "$PORT" || die "redis did not start (see $T/redis.log)"

K='{p:prf_bench}'
python3 - "$SEATS" "$SOLD" "$HELD" "$K" >"$T/load.resp" <<'EOF'
import random, string, sys
seats, sold_n, held_n, k = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
rnd = random.Random(7)
alphabet = string.ascii_letters + string.digits + '_-'
ids = ['st_' + ''.join(rnd.choice(alphabet) for _ in range(22)) for _ in range(seats)]
order = list(range(seats))
rnd.shuffle(order)
sold, held = order[:sold_n], order[sold_n:sold_n + held_n]
out = sys.stdout
def cmd(*a):
    out.write('*%d\r\n' % len(a))
    for x in a:
        x = str(x)
        out.write('$%d\r\n%s\r\n' % (len(x.encode()), x))
for i in range(0, len(sold), 1000):
    chunk = sold[i:i + 1000]
    cmd('SADD', k + ':sold', *[ids[j] for j in chunk])
    bits = []
    for j in chunk: bits += ['SET', 'u1', j, 1]
    cmd('BITFIELD', k + ':soldbits', *bits)
for i in range(0, len(held), 1000):
    fields = []
    for j in held[i:i + 1000]: fields += [ids[j], 'prf_bench~hld_%022d:1796609919071' % j]
    cmd('HSET', k + ':seat', *fields)
cmd('SET', k + ':ver', 12345)
EOF
redis-cli -p "$PORT" --pipe <"$T/load.resp" >/dev/null
[ "$(redis-cli -p "$PORT" scard "$K:sold")" = "$SOLD" ] || die "the sold set was not loaded"
[ "$(redis-cli -p "$PORT" bitcount "$K:soldbits")" = "$SOLD" ] || die "the bitmap was not loaded"

# usec_per_call of one command after CALLS calls of it (stats reset first).
redis_us() {
  redis-cli -p "$PORT" config resetstat >/dev/null
  taskset -c 1 redis-benchmark -p "$PORT" -c 1 -n "$CALLS" -q "$@" >/dev/null
  local name
  name=$(printf '%s' "$1" | tr '[:upper:]' '[:lower:]')
  redis-cli -p "$PORT" info commandstats |
    sed -n "s/^cmdstat_$name:.*usec_per_call=\([0-9.]*\).*/\1/p"
}

get_ver=$(redis_us GET "$K:ver")
hgetall=$(redis_us HGETALL "$K:seat")
# The script as the service runs it (the text between `kSoldMarks = R"lua(` and `)lua"`).
marks_lua=$(sed -n '/kSoldMarks = R"lua(/,/)lua";/p' src/infra/redis/stores/lua.hpp | sed '1d;$d')
[ -n "$marks_lua" ] || die "kSoldMarks not found in src/infra/redis/stores/lua.hpp"
marks=$(redis_us EVAL "$marks_lua" 2 "$K:sold" "$K:soldbits")
smembers=$(redis_us SMEMBERS "$K:sold")
python3 - "$SEATS" "$SOLD" "$HELD" "$CALLS" "$get_ver" "$hgetall" "$marks" "$smembers" <<'EOF'
import sys
seats, sold, held, calls = sys.argv[1:5]
gv, hg, mk, sm = map(float, sys.argv[5:9])
now = gv + hg + mk
before = gv + hg + sm
print(f'{seats} seats, {sold} sold, {held} in the holds hash; Redis time per call ({calls} calls each):')
print(f'  GET version {gv:.1f} us, HGETALL holds {hg:.1f} us, kSoldMarks (bitmap, SCARD, '
      f'BITCOUNT) {mk:.1f} us, SMEMBERS sold {sm:.1f} us')
print(f'  a seat-map build reads {now:.0f} us (bitmap) against {before:.0f} us '
      f'(the ids: version, holds, SMEMBERS): {before / now:.1f}x less')
EOF
