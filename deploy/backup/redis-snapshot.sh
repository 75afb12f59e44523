#!/usr/bin/env bash
# Takes an RDB snapshot of a Redis node and stores it as redis/<UTC timestamp>.rdb.
#
#   redis-snapshot.sh [-h HOST] [-p PORT] [--keep N]
#
# Store: TK_BACKUP_URL. Redis: the options or TK_REDIS_HOST / TK_REDIS_PORT (127.0.0.1:6379);
# a password in REDISCLI_AUTH. Asks for a BGSAVE (scheduled after an AOF rewrite in progress),
# waits until that save has finished (INFO persistence: rdb_saves grows, or LASTSAVE moves) and
# succeeded, copies the node's dump file (CONFIG GET dir, dbfilename), checks it with
# redis-check-rdb and stores it. When the dump file is not readable from here (another machine,
# CONFIG disabled), the snapshot is fetched over the replication protocol instead
# (redis-cli --rdb). Keeps the N newest snapshots (--keep, TK_BACKUP_REDIS_KEEP, default 14).
# Run it against the primary or a replica; on a Sentinel setup a replica spares the primary the
# fork.
set -euo pipefail
# shellcheck source=deploy/backup/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

host=${TK_REDIS_HOST:-127.0.0.1} port=${TK_REDIS_PORT:-6379} keep=${TK_BACKUP_REDIS_KEEP:-14}
wait_s=${TK_BACKUP_REDIS_WAIT:-600}
while [ $# -gt 0 ]; do
  case $1 in
    -h) host=${2:?}; shift ;;
    -p) port=${2:?}; shift ;;
    --keep) keep=${2:?--keep N}; shift ;;
    --help) sed -n '2,16p' "$0"; exit 0 ;;
    *) die "unknown option $1 (see --help)" 2 ;;
  esac
  shift
done
[[ $keep =~ ^[1-9][0-9]*$ ]] || die "--keep needs a count of at least 1" 2
need_url
rc() { redis-cli --no-auth-warning -h "$host" -p "$port" "$@"; }
field() { rc info persistence | tr -d '\r' | sed -n "s/^$1://p"; }

[ "$(rc ping 2>/dev/null)" = PONG ] || die "Redis at $host:$port does not answer PING"
work=$(mktemp -d "${TMPDIR:-/tmp}/tk-redis-snapshot.XXXXXX")
trap 'rm -rf "$work"' EXIT
ts=$(now_stamp)

saves0=$(field rdb_saves) last0=$(rc lastsave)
deadline=$((SECONDS + wait_s))
until out=$(rc bgsave schedule 2>&1) && case $out in *started* | *scheduled*) true ;; *) false ;; esac; do
  # "already in progress": that save began before this call; wait for it and ask again.
  [ "$SECONDS" -lt "$deadline" ] || die "BGSAVE refused: $out"
  sleep 0.5
  saves0=$(field rdb_saves) last0=$(rc lastsave)
done
while :; do
  if [ "$(field rdb_bgsave_in_progress)" = 0 ]; then
    if [ -n "$saves0" ]; then [ "$(field rdb_saves)" -gt "$saves0" ] && break
    else [ "$(rc lastsave)" -gt "$last0" ] && break; fi
  fi
  [ "$SECONDS" -lt "$deadline" ] || die "BGSAVE did not finish within ${wait_s}s"
  sleep 0.2
done
[ "$(field rdb_last_bgsave_status)" = ok ] || die "BGSAVE failed (rdb_last_bgsave_status $(field rdb_last_bgsave_status)); see the Redis log"

dir=$(rc config get dir 2>/dev/null | sed -n 2p) || dir=''
file=$(rc config get dbfilename 2>/dev/null | sed -n 2p) || file=''
if [ -n "$dir" ] && [ -n "$file" ] && [ -r "$dir/$file" ]; then
  # Redis writes a new dump to a temporary file and renames it: the file copied is one whole save.
  cp "$dir/$file" "$work/dump.rdb"
else
  log "$dir/$file is not readable here; fetching the snapshot with redis-cli --rdb"
  rc --rdb "$work/dump.rdb" >/dev/null 2>&1 || die "redis-cli --rdb failed"
fi
redis-check-rdb "$work/dump.rdb" >"$work/check.log" 2>&1 ||
  { cat "$work/check.log" >&2; die "the snapshot fails redis-check-rdb"; }
store put "$work/dump.rdb" "redis/$ts.rdb"
log "redis/$ts.rdb stored ($(stat -c %s "$work/dump.rdb") bytes, $(sed -n 's/^\[info\] \([0-9]*\) keys read$/\1/p' "$work/check.log") keys)"

mapfile -t snaps < <(store list redis/ | grep -E '^redis/[0-9]{8}T[0-9]{6}Z\.rdb$' || true)
if [ "${#snaps[@]}" -gt "$keep" ]; then
  old=("${snaps[@]:0:${#snaps[@]} - keep}")
  log "retention: deleting ${#old[@]} snapshot(s)"
  store rm "${old[@]}"
fi
echo "redis/$ts.rdb"
