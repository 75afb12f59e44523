#!/usr/bin/env bash
# shellcheck disable=SC2016,SC2317,SC2030,SC2031  # bash -c bodies take their own arguments; cleanup runs from the trap; subshells keep their own TK_BACKUP_URL
# Tests of deploy/backup against a real PostgreSQL 15 and Redis, on free loopback ports, in a
# temporary folder removed at the end (pass or fail). Run: bash deploy/backup/test.sh
# (as root, PostgreSQL runs as `postgres`). Last line: "N passed, M failed"; exit status 1 when
# anything failed.
#
# The story: a primary archiving its WAL to a file:// store gets the project's schema
# (db/migrations, recorded in schema_migrations as the service does) and a venue; base backups
# and rounds of paid orders (seats claimed and sold, tickets, charge, idempotency key, outbox row,
# sales shard, through the real tables) alternate, with a moment TA recorded between two rounds.
# A restore to TA into a new data directory on another port must hold every order paid before TA
# and none after, and take writes. Then the store is made unwritable: PostgreSQL keeps the WAL and
# retries, and once the store is back nothing is missing (a second restore, --latest, to the end
# of the archive, holds every order, those paid during the outage too). A target before the first
# kept base is refused. A Redis snapshot is taken and loaded into a fresh Redis.
set -uo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
# shellcheck source=deploy/backup/common.sh
. "$HERE/common.sh"
BIN=$(pg_bin)
started=$SECONDS

pass=0 failed=0
ok() { pass=$((pass + 1)); printf 'ok   %s\n' "$1"; }
bad() { failed=$((failed + 1)); printf 'FAIL %s\n' "$1"; }
check() { local name=$1; shift; if "$@"; then ok "$name"; else bad "$name"; fi; }
finish() {
  echo "($((SECONDS - started)) s)"
  echo "$pass passed, $failed failed"
  [ "$failed" = 0 ]; exit
}
fatal() { bad "$1"; [ -z "${2:-}" ] || tail -n 20 "$2" | sed 's/^/  | /'; finish; }

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

T=$(mktemp -d /tmp/tk-backup-test.XXXXXX)
chmod 755 "$T"
# PostgreSQL runs the archive and restore commands as `postgres`, which may not enter the checkout
# (a clone under /root): every script runs from a copy in the test's folder.
cp -r "$HERE" "$T/scripts"
chmod -R a+rX "$T/scripts"
HERE=$T/scripts
cleanup() {
  local d
  for d in "$T"/pg "$T"/r1 "$T"/r2; do
    [ -f "$d/postmaster.pid" ] && as_pg "$BIN/pg_ctl" -D "$d" -m immediate stop >/dev/null 2>&1
  done
  for d in "$T"/redis*/redis.pid; do [ -f "$d" ] && kill "$(cat "$d")" 2>/dev/null; done
  rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

STORE=$T/store
mkdir -p "$STORE"
if is_root; then chown postgres: "$STORE"; fi
export TK_BACKUP_URL=file://$STORE
export TK_BACKUP_ARCHIVE_WAIT=30   # basebackup.sh: a base whose WAL is not archived fails fast

# --- the object store on its own ------------------------------------------------------------------
(
  export TK_BACKUP_URL=file://$T/scratch
  printf 'one' >"$T/a"; printf 'two' >"$T/b"
  r() { "$HERE/objstore.sh" "$@" 2>/dev/null; }
  check "objstore: put then get gives the same bytes" \
    bash -c 'o=$1; shift; "$o" put "$1" k/x && "$o" get k/x - | cmp -s - "$1"' _ "$HERE/objstore.sh" "$T/a"
  check "objstore: a second put of the same content succeeds" r put "$T/a" k/x
  r put "$T/b" k/x; check "objstore: a put of other content onto a key fails (3) and keeps the object" \
    test "$?" = 3 -a "$(r get k/x -)" = one
  r get k/none /dev/null; check "objstore: get of a missing key exits 1" test "$?" = 1
  check "objstore: list by prefix" test "$(r list k/)" = k/x
  r rm k/x; check "objstore: rm deletes, leaves no empty folder" test ! -e "$T/scratch/k"
  # wal-archive.sh: the same WAL twice is accepted, another one under that name refused.
  head -c 65536 /dev/urandom >"$T/seg"
  check "wal-archive: archives a file" "$HERE/wal-archive.sh" "$T/seg" 0000000100000000000000AA
  check "wal-archive: the same file again succeeds" "$HERE/wal-archive.sh" "$T/seg" 0000000100000000000000AA
  head -c 65536 /dev/urandom >"$T/seg2"
  "$HERE/wal-archive.sh" "$T/seg2" 0000000100000000000000AA 2>/dev/null
  check "wal-archive: other content under an archived name fails" test "$?" != 0
  check "wal-restore: fetches what was archived" \
    bash -c '"$1/wal-restore.sh" 0000000100000000000000AA "$2/back" && cmp -s "$2/seg" "$2/back"' _ "$HERE" "$T"
  "$HERE/wal-restore.sh" 0000000100000000000000AB "$T/back2"
  check "wal-restore: a file not in the archive exits 1, writes nothing" test "$?" = 1 -a ! -e "$T/back2"
  echo "$pass $failed" >"$T/counts"
)
read -r pass failed <"$T/counts"

# --- objstore.sh s3:// against a stand-in aws CLI (testing/aws): its calls, not S3 itself ----------
(
  export TK_BACKUP_URL=s3://bucket/prod/pg FAKE_S3_ROOT=$T/fake-s3 PATH=$HERE/testing:$PATH
  mkdir -p "$FAKE_S3_ROOT"
  r() { "$HERE/objstore.sh" "$@" 2>/dev/null; }
  check "objstore s3 (stand-in aws): put then get gives the same bytes" \
    bash -c '"$1" put "$2" wal/x.gz && "$1" get wal/x.gz - | cmp -s - "$2"' _ "$HERE/objstore.sh" "$T/a"
  check "objstore s3 (stand-in aws): the object lies under the URL's prefix" test -f "$FAKE_S3_ROOT/bucket/prod/pg/wal/x.gz"
  check "objstore s3 (stand-in aws): a second put of the same content succeeds" r put "$T/a" wal/x.gz
  r put "$T/b" wal/x.gz; check "objstore s3 (stand-in aws): a put of other content fails (3)" test "$?" = 3
  r get wal/none -; check "objstore s3 (stand-in aws): get of a missing key exits 1" test "$?" = 1
  check "objstore s3 (stand-in aws): list by prefix" test "$(r list wal/)" = wal/x.gz
  r rm wal/x.gz; check "objstore s3 (stand-in aws): rm" test -z "$(r list)"
  echo "$pass $failed" >"$T/counts"
)
read -r pass failed <"$T/counts"

# --- a primary that archives ----------------------------------------------------------------------
P1=$(free_port); P2=$(free_port); P3=$(free_port)
mkdir -p "$T/pg" "$T/log"; chmod 700 "$T/pg"
if is_root; then chown postgres: "$T/pg" "$T/log"; fi
as_pg "$BIN/initdb" -D "$T/pg" -U postgres -A trust -E UTF8 --no-sync >"$T/initdb.log" 2>&1 ||
  fatal "initdb" "$T/initdb.log"
{
  echo "listen_addresses = '127.0.0.1'"
  echo "port = $P1"
  echo "unix_socket_directories = '$T/log'"
  echo "fsync = off"
  "$HERE/archive-settings.sh" 60
} >>"$T/pg/postgresql.conf"
as_pg "$BIN/pg_ctl" -D "$T/pg" -l "$T/log/pg.log" -w -t 60 start >/dev/null || fatal "primary starts" "$T/log/pg.log"
export PGHOST=127.0.0.1 PGUSER=postgres
psql1() { "$BIN/psql" -X -q -At -v ON_ERROR_STOP=1 -p "$P1" -d "${DB:-ticketing}" "$@"; }
DB=postgres psql1 -c 'CREATE DATABASE ticketing' || fatal "create database"
check "primary: archive_mode on" test "$(psql1 -c 'SHOW archive_mode')" = on

# The schema as the service applies it: each migration in its own transaction, recorded with its
# SHA-256 in schema_migrations (src/infra/postgres/migrate.cpp).
{
  echo "CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, name text NOT NULL,"
  echo "  checksum text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now());"
  for f in "$ROOT"/db/migrations/[0-9][0-9][0-9][0-9]_*.sql; do
    b=$(basename "$f" .sql)
    echo "BEGIN;"
    echo "\\i $f"
    echo "INSERT INTO schema_migrations (version, name, checksum) VALUES (${b:0:4}, '${b:5}', '$(sha256sum "$f" | cut -c1-64)');"
    echo "COMMIT;"
  done
} >"$T/schema.sql"
psql1 -f "$T/schema.sql" >"$T/schema.log" 2>&1 || fatal "schema (db/migrations)" "$T/schema.log"
nmig=$(find "$ROOT/db/migrations" -name '[0-9][0-9][0-9][0-9]_*.sql' | wc -l)
check "schema: $nmig migrations applied" test "$(psql1 -c 'SELECT count(*) FROM schema_migrations')" = "$nmig"

psql1 >/dev/null <<'SQL' || fatal "catalogue seed"
INSERT INTO accounts (id, email, name, password_hash)
  VALUES ('acc-1', 'buyer1@example.test', 'Buyer One', 'x'), ('acc-2', 'buyer2@example.test', 'Buyer Two', 'x');
INSERT INTO venues (id, name, seat_count) VALUES ('ven-1', 'Backup Hall', 400);
INSERT INTO venue_seats (id, venue_id, ord, section, row_label, number, grade)
  SELECT 'seat-' || g, 'ven-1', g, 'A', ((g - 1) / 20 + 1)::text, (g - 1) % 20 + 1, 'R'
  FROM generate_series(1, 400) g;
INSERT INTO events (id, title, venue_id) VALUES ('evt-1', 'Backup Night', 'ven-1');
INSERT INTO performances (id, event_id, venue_id, starts_at, sale_opens_at, status,
    max_seats_per_order, max_seats_per_account, hold_ttl_seconds, admit_per_interval, interval_ms,
    max_active, access_ttl_seconds, seat_count)
  VALUES ('perf-1', 'evt-1', 'ven-1', now() + interval '30 days', now(), 'on_sale',
    4, 400, 300, 10, 1000, 100, 600, 400);
INSERT INTO price_grades VALUES ('perf-1', 'R', 90000, 'KRW');
INSERT INTO performance_seats (performance_id, seat_id)
  SELECT 'perf-1', id FROM venue_seats WHERE venue_id = 'ven-1';
SQL

# One order paid as the service does it: the claim, the idempotency row committed first, the
# provider's charge, then one finalising transaction.
seat=0
order_sql() {  # order_sql ORDER_ID ACCOUNT
  local o=$1 a=$2 s1 s2
  seat=$((seat + 1)); s1=seat-$seat; seat=$((seat + 1)); s2=seat-$seat
  cat <<SQL
BEGIN;
UPDATE performance_seats SET state = 'ordered', order_id = '$o', claim_expires_at = now() + interval '10 minutes'
  WHERE performance_id = 'perf-1' AND seat_id IN ('$s1', '$s2') AND state = 'available';
INSERT INTO orders (id, account_id, performance_id, hold_id, seat_ids, total_cents, currency, expires_at)
  VALUES ('$o', '$a', 'perf-1', 'hold-$o', ARRAY['$s1', '$s2'], 180000, 'KRW', now() + interval '10 minutes');
COMMIT;
INSERT INTO idempotency_keys (account_id, key, fingerprint, order_id, state, locked_until)
  VALUES ('$a', 'idem-$o', 'fp', '$o', 'in_progress', now() + interval '30 seconds');
INSERT INTO provider_charges (id, provider_key, order_ref, amount_cents, currency, status)
  VALUES ('ch-$o', 'idem-$o', '$o', 180000, 'KRW', 'charged');
BEGIN;
UPDATE performance_seats SET state = 'sold', claim_expires_at = NULL
  WHERE performance_id = 'perf-1' AND order_id = '$o' AND state = 'ordered';
INSERT INTO tickets (id, order_id, performance_id, seat_id, code)
  VALUES ('t-$o-1', '$o', 'perf-1', '$s1', 'code'), ('t-$o-2', '$o', 'perf-1', '$s2', 'code');
UPDATE orders SET status = 'paid', paid_at = clock_timestamp(), charge_id = 'ch-$o'
  WHERE id = '$o' AND status = 'pending';
INSERT INTO performance_sales (performance_id, shard, sold) VALUES ('perf-1', floor(random() * 64)::int, 2)
  ON CONFLICT (performance_id, shard) DO UPDATE SET sold = performance_sales.sold + EXCLUDED.sold;
UPDATE idempotency_keys SET state = 'completed', response_status = 200, response_body = '{}'
  WHERE account_id = '$a' AND key = 'idem-$o';
INSERT INTO outbox (topic, payload) VALUES ('order.paid', jsonb_build_object('order_id', '$o'));
COMMIT;
SQL
}
round() {  # round N [COUNT]: COUNT (5) paid orders ord-N-1.., ids in $T/round-N.ids
  local n=$1 i
  : >"$T/round-$n.ids"
  for i in $(seq "${2:-5}"); do
    order_sql "ord-$n-$i" "acc-$((i % 2 + 1))"
    echo "ord-$n-$i" >>"$T/round-$n.ids"
  done >"$T/round-$n.sql"
  psql1 -f "$T/round-$n.sql" >/dev/null 2>"$T/round-$n.err" || fatal "round $n of orders" "$T/round-$n.err"
  [ "$(psql1 -c "SELECT count(*) FROM orders WHERE id LIKE 'ord-$n-%' AND status = 'paid'")" = "${2:-5}" ] ||
    fatal "round $n: orders paid on the primary"
}
now_pg() { psql1 -c "SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US') || '+00'"; }
base() {  # base [--keep N]: prints base/<stamp>
  mkdir -p "$T/tmp"
  PGPORT=$P1 TMPDIR=$T/tmp "$HERE/basebackup.sh" "$@" 2>>"$T/basebackup.log"   # its lock file too
}
switch_and_wait() {  # forces a WAL switch and waits (20 s) until the finished file is in the store
  local seg i
  seg=$(psql1 -c "SELECT pg_walfile_name(pg_current_wal_lsn())")
  psql1 -c 'SELECT pg_switch_wal()' >/dev/null
  for i in $(seq 100); do "$HERE/objstore.sh" exists "wal/$seg.gz" && return 0; sleep 0.2; done
  return 1
}

T0=$(now_pg)
sleep 0.3
B1=$(base --keep 5) || fatal "basebackup.sh" "$T/basebackup.log"
check "basebackup: base/<stamp> with base.tar.gz, backup_manifest, info" \
  test "$("$HERE/objstore.sh" list "$B1/" | sed 's#.*/##' | tr '\n' ' ')" = "backup_manifest base.tar.gz info "
round 1
B2=$(base --keep 5) || fatal "basebackup.sh" "$T/basebackup.log"
round 2
sleep 0.3; TA=$(now_pg); sleep 0.3
round 3
B3=$(base --keep 2) || fatal "basebackup.sh (--keep 2)" "$T/basebackup.log"
round 4
check "WAL switch: the current WAL file reaches the store" switch_and_wait
mapfile -t bases < <("$HERE/objstore.sh" list base/ | sed -n 's#^\(base/[^/]*\)/info$#\1#p')
check "retention (--keep 2): the two newest bases are kept" test "${bases[*]}" = "$B2 $B3"
b2start=$("$HERE/objstore.sh" get "$B2/info" - | sed -n 's/^start_wal=//p')
first_wal=$("$HERE/objstore.sh" list wal/ | sed -n 's#^wal/\([0-9A-F]\{24\}\)\.gz$#\1#p' | head -1)
check "retention: WAL before the oldest kept base's start is deleted ($first_wal = $b2start)" \
  test "$first_wal" = "$b2start"

# --- restore to TA --------------------------------------------------------------------------------
"$HERE/restore.sh" --target-time "$T0" --to "$T/r0" --port "$P2" >"$T/r0.out" 2>&1
rc=$?
check "restore: a target before the first base is refused ($(tail -1 "$T/r0.out" | cut -c1-90)...)" \
  bash -c '[ "$1" != 0 ] && grep -q "no base backup ended before" "$2" && [ ! -e "$3" ]' _ "$rc" "$T/r0.out" "$T/r0"

t=$SECONDS
"$HERE/restore.sh" --target-time "$TA" --to "$T/r1" --port "$P2" --timeout 120 >"$T/r1.out" 2>&1 ||
  fatal "restore.sh to TA" "$T/r1.out"
echo "     restore to TA took $((SECONDS - t)) s: $(tail -1 "$T/r1.out" | sed 's/^restore.sh: //')"
psql2() { "$BIN/psql" -X -q -At -v ON_ERROR_STOP=1 -p "$P2" -d ticketing "$@"; }
check "restore: uses the newest base before TA ($B2)" grep -q "restoring $B2 " "$T/r1.out"
paid_ids() { "$@" -c "SELECT id FROM orders WHERE status = 'paid' ORDER BY id COLLATE \"C\""; }
expect_before=$(LC_ALL=C sort "$T/round-1.ids" "$T/round-2.ids")
check "restore to TA: every order paid before TA is there (10)" test "$(paid_ids psql2)" = "$expect_before"
check "restore to TA: no order of the rounds after TA" \
  test "$(psql2 -c "SELECT count(*) FROM orders WHERE id LIKE 'ord-3-%' OR id LIKE 'ord-4-%'")" = 0
check "restore to TA: tickets, sales and seats agree with the orders" test "$(psql2 -c "
  SELECT (SELECT count(*) FROM tickets) || ' ' || (SELECT sum(sold) FROM performance_sales) || ' ' ||
         (SELECT count(*) FROM performance_seats WHERE state = 'sold') || ' ' ||
         (SELECT count(*) FROM outbox WHERE topic = 'order.paid')")" = "20 20 20 10"
check "restore to TA: the restored server is a primary (not in recovery)" test "$(psql2 -c 'SELECT pg_is_in_recovery()')" = f
order_sql ord-new-1 acc-1 >"$T/new.sql"
check "restore to TA: the restored server takes writes (a new paid order)" \
  bash -c '"$@" -f "$0" >/dev/null && [ "$("$@" -c "SELECT status FROM orders WHERE id = '"'ord-new-1'"'")" = paid ]' \
  "$T/new.sql" "$BIN/psql" -X -q -At -v ON_ERROR_STOP=1 -p "$P2" -d ticketing
check "restore to TA: the primary still has all 20 orders" test "$(psql1 -c "SELECT count(*) FROM orders WHERE status = 'paid'")" = 20
as_pg "$BIN/pg_ctl" -D "$T/r1" -m fast -w stop >/dev/null 2>&1

# --- the store unwritable: PostgreSQL keeps the WAL and retries -----------------------------------
chmod 0500 "$STORE/wal"
fail0=$(psql1 -c 'SELECT failed_count FROM pg_stat_archiver')
round 5
seg=$(psql1 -c "SELECT pg_walfile_name(pg_current_wal_lsn())")
round 6 1
psql1 -c 'SELECT pg_switch_wal()' >/dev/null
for _ in $(seq 100); do
  [ "$(psql1 -c 'SELECT failed_count FROM pg_stat_archiver')" -gt "$fail0" ] && break; sleep 0.1
done
check "outage: archive_command fails while the store is unwritable (pg_stat_archiver.failed_count)" \
  test "$(psql1 -c 'SELECT failed_count FROM pg_stat_archiver')" -gt "$fail0"
check "outage: $seg stays in pg_wal, marked .ready, and is not in the store" \
  bash -c '[ -f "$1/pg_wal/archive_status/$2.ready" ] && ! "$3" exists "wal/$2.gz"' _ "$T/pg" "$seg" "$HERE/objstore.sh"
# A base taken now would never end (the server waits for its WAL to be archived): refused at once.
PGPORT=$P1 TMPDIR=$T/tmp timeout 60 "$HERE/basebackup.sh" --keep 5 >/dev/null 2>"$T/outage-base.log"
check "outage: basebackup.sh refuses to start while archive_command fails" \
  grep -q "archive_command is failing" "$T/outage-base.log"
chmod 0750 "$STORE/wal"
psql1 -c 'SELECT pg_reload_conf()' >/dev/null   # wakes the archiver instead of its next minute
for _ in $(seq 150); do "$HERE/objstore.sh" exists "wal/$seg.gz" && break; sleep 0.2; done
check "outage over: the retried WAL file reaches the store" "$HERE/objstore.sh" exists "wal/$seg.gz"
switch_and_wait
# Every WAL file from the oldest kept base on is in the store, without a gap.
gaps=$(python3 - "$b2start" <<PY
import sys, subprocess
names = subprocess.run(["$HERE/objstore.sh", "list", "wal/"], capture_output=True, text=True).stdout.split()
num = lambda n: int(n[8:16], 16) * 256 + int(n[16:24], 16)  # 16 MB WAL files
segs = sorted(num(n) for n in (x[4:] for x in names) if len(n) == 27 and n.startswith("00000001"))
start = num(sys.argv[1])
print(sorted(set(range(start, segs[-1] + 1)) - set(segs)))
PY
)
check "archive: no WAL file missing from the oldest kept base to now ($gaps)" test "$gaps" = "[]"

# --latest: the newest base and every archived WAL file (the primary lost for good), those
# shipped after the outage included.
t=$SECONDS
"$HERE/restore.sh" --latest --to "$T/r2" --port "$P3" --timeout 120 >"$T/r2.out" 2>&1 ||
  fatal "restore.sh --latest" "$T/r2.out"
echo "     restore --latest took $((SECONDS - t)) s"
psql3() { "$BIN/psql" -X -q -At -v ON_ERROR_STOP=1 -p "$P3" -d ticketing "$@"; }
check "restore --latest: uses the newest base ($B3)" grep -q "restoring $B3 " "$T/r2.out"
check "restore --latest: every paid order, those of the outage and the last one included (26)" \
  test "$(paid_ids psql3)" = "$(LC_ALL=C sort "$T"/round-[1-6].ids)"
check "restore --latest: the copy does not archive into the store (archive_mode off)" \
  test "$(psql3 -c 'SHOW archive_mode')" = off
as_pg "$BIN/pg_ctl" -D "$T/r2" -m fast -w stop >/dev/null 2>&1

# --- Redis snapshot -------------------------------------------------------------------------------
R1=$(free_port); R2=$(free_port)
mkdir -p "$T/redis1" "$T/redis2"
redis-server --bind 127.0.0.1 --port "$R1" --dir "$T/redis1" --daemonize yes --pidfile "$T/redis1/redis.pid" \
  --logfile "$T/redis1/redis.log" --appendonly yes --appendfsync everysec --save '' >/dev/null
for _ in $(seq 50); do redis-cli -p "$R1" ping >/dev/null 2>&1 && break; sleep 0.1; done
for i in $(seq 100); do echo "SET tk:hold:h$i acc-$i PX 600000"; done | redis-cli -p "$R1" >/dev/null
redis-cli -p "$R1" set tk:session:s1 acc-1 >/dev/null
snap=$("$HERE/redis-snapshot.sh" -p "$R1" 2>"$T/redis-snapshot.log") || fatal "redis-snapshot.sh" "$T/redis-snapshot.log"
check "redis: snapshot stored as redis/<stamp>.rdb" "$HERE/objstore.sh" exists "$snap"
"$HERE/objstore.sh" get "$snap" "$T/redis2/dump.rdb"
redis-server --bind 127.0.0.1 --port "$R2" --dir "$T/redis2" --daemonize yes --pidfile "$T/redis2/redis.pid" \
  --logfile "$T/redis2/redis.log" --appendonly no --save '' >/dev/null
for _ in $(seq 50); do redis-cli -p "$R2" ping >/dev/null 2>&1 && break; sleep 0.1; done
check "redis: a fresh Redis loads the snapshot (101 keys, TTLs kept)" \
  bash -c '[ "$(redis-cli -p "$1" dbsize)" = 101 ] && [ "$(redis-cli -p "$1" pttl tk:hold:h7)" -gt 0 ] &&
           [ "$(redis-cli -p "$1" get tk:session:s1)" = acc-1 ]' _ "$R2"

finish
