#!/usr/bin/env bash
# Point-in-time restore of PostgreSQL from the object store into a new data directory.
#
#   restore.sh --target-time TIME --to DATADIR [--port PORT] [--listen ADDRS] [--user USER]
#              [--timeout SECONDS] [--keep-archiving]
#   restore.sh --latest --to DATADIR [...]   everything archived: the newest base, then all WAL
#   restore.sh --list            the complete base backups and the time each is usable from
#
# TIME: a time with its zone, as PostgreSQL and GNU date read it: '2026-12-04 21:30:00.25+00',
# '2026-12-04T21:30:00Z'. Every transaction committed at or before TIME is restored, none after.
# PostgreSQL knows it reached TIME at the first commit after it, so the archive must hold one: on
# an idle database, or for "as late as possible" after losing the primary, use --latest.
#
# Picks the newest complete base whose end (stop_epoch) is at or before TIME (refuses, changing
# nothing, when there is none), unpacks it into DATADIR (which must not exist or be empty), checks
# every file against the base's manifest (pg_verifybackup), sets
#   restore_command        = wal-restore.sh (archived WAL from the same store)
#   recovery_target_time   = TIME, recovery_target_action = promote
#   port (5432, or PORT), listen_addresses (127.0.0.1, or ADDRS), no Unix socket
#   archive_mode = off     unless --keep-archiving: the copy must not archive into the store of
#                          the cluster it came from by accident; to make it the new primary, give it
#                          a store (or prefix) of its own and take a base backup (README.md)
# in postgresql.auto.conf, starts PostgreSQL on it, and waits (up to --timeout, 600 s) until WAL
# replay has reached TIME, the server has promoted itself and takes writes. The server keeps
# running; its log is DATADIR/restore.log. If the archive ends before TIME (TIME in the future, or
# WAL not archived yet), PostgreSQL stops with "recovery ended before configured recovery target
# was reached" and this script fails with that log.
#
# Store: TK_BACKUP_URL. As root, the server and its files belong to `postgres`.
set -euo pipefail
# shellcheck source=deploy/backup/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

target='' latest=0 datadir='' port=5432 listen=127.0.0.1 pguser=postgres timeout=600 keep_archiving=0 list=0
while [ $# -gt 0 ]; do
  case $1 in
    --target-time) target=${2:?--target-time TIME}; shift ;;
    --latest) latest=1 ;;
    --to) datadir=${2:?--to DATADIR}; shift ;;
    --port) port=${2:?--port PORT}; shift ;;
    --listen) listen=${2:?--listen ADDRS}; shift ;;
    --user) pguser=${2:?--user USER}; shift ;;
    --timeout) timeout=${2:?--timeout SECONDS}; shift ;;
    --keep-archiving) keep_archiving=1 ;;
    --list) list=1 ;;
    --help) sed -n '2,32p' "$0"; exit 0 ;;
    *) die "unknown option $1 (see --help)" 2 ;;
  esac
  shift
done
need_url
BIN=$(pg_bin)
work=$(mktemp -d "${TMPDIR:-/tmp}/tk-restore.XXXXXX")
trap 'rm -rf "$work"' EXIT

# Complete bases (those with an info object), oldest first: "stamp stop_epoch stop_time" lines.
bases() {
  local b
  store list base/ | sed -n 's#^base/\([^/]*\)/info$#\1#p' | while IFS= read -r b; do
    store get "base/$b/info" "$work/info.$b"
    printf '%s %s %s\n' "$b" "$(info_field "$work/info.$b" stop_epoch)" "$(info_field "$work/info.$b" stop_time)"
  done
}

if [ "$list" = 1 ]; then
  bases | while read -r b _ stop; do echo "base/$b  usable for targets from $stop"; done
  exit 0
fi

if [ "$latest" = 1 ]; then
  [ -z "$target" ] || die "--latest or --target-time, not both" 2
  target_epoch=9999999999   # every base: the newest is taken
else
  [ -n "$target" ] || die "--target-time TIME or --latest is required (see --help)" 2
  target_epoch=$(to_epoch "$target") || die "cannot read the target time '$target'" 2
fi
[ -n "$datadir" ] || die "--to DATADIR is required (see --help)" 2
[[ $port =~ ^[0-9]+$ ]] || die "--port needs a number" 2
case $target$TK_BACKUP_URL$TK_BACKUP_DIR$listen in
  *[\'\"\\\$\`]*) die "the target, TK_BACKUP_URL, --listen and the scripts' path must not hold quotes, \\, \$ or \`" 2 ;;
esac
case $TK_BACKUP_URL$TK_BACKUP_DIR in *' '*) die "TK_BACKUP_URL and the scripts' path must not hold spaces" 2 ;; esac
datadir=$(realpath -m "$datadir")
if [ -e "$datadir" ] && [ -n "$(ls -A "$datadir" 2>/dev/null)" ]; then
  die "$datadir exists and is not empty; restore into a new data directory" 2
fi

# The newest base that ended at or before the target.
mapfile -t all < <(bases)
[ "${#all[@]}" -gt 0 ] || die "no complete base backup in $TK_BACKUP_URL; nothing restored" 3
chosen=''
for line in "${all[@]}"; do
  read -r b stop _ <<<"$line"
  if epoch_le "$stop" "$target_epoch"; then chosen=$b; fi
done
if [ -z "$chosen" ]; then
  read -r _ _ first_stop <<<"${all[0]}"
  die "no base backup ended before ${target:-now} (the oldest, base/${all[0]%% *}, ended at $first_stop); nothing restored" 3
fi
info=$work/info.$chosen
extra=$(store list "base/$chosen/" | grep -v -e '/base\.tar\.gz$' -e '/backup_manifest$' -e '/info$' || true)
if [ -n "$extra" ]; then
  die "base/$chosen has tablespace archives; this script restores the main data directory only" 2
fi
log "restoring base/$chosen (ended $(info_field "$info" stop_time), WAL from $(info_field "$info" start_wal)) to ${target:-the end of the archive}"

# Unpack as the server's user, then check every file against the manifest.
mkdir -p "$datadir"
chmod 700 "$datadir"
if is_root; then chown postgres: "$datadir"; fi
as_pg test -w "$datadir" || die "$datadir is not writable by the server's user (a parent folder it cannot enter?)" 2
store get "base/$chosen/base.tar.gz" - | as_pg tar -xzf - -C "$datadir" ||
  die "could not unpack base/$chosen/base.tar.gz into $datadir"
store get "base/$chosen/backup_manifest" "$work/backup_manifest"
"$BIN/pg_verifybackup" -q -n -m "$work/backup_manifest" "$datadir" ||
  die "$datadir does not match base/$chosen/backup_manifest (damaged backup?)"
as_pg mkdir -p "$datadir/pg_wal/archive_status"

{
  echo
  echo "# --- restore.sh: base/$chosen, WAL from $TK_BACKUP_URL up to ${target:-its end} ---"
  echo "restore_command = 'TK_BACKUP_URL=$TK_BACKUP_URL $TK_BACKUP_DIR/wal-restore.sh %f %p'"
  if [ -n "$target" ]; then
    echo "recovery_target_time = '$target'"
    echo "recovery_target_action = 'promote'"
  fi
  echo "port = $port"
  echo "listen_addresses = '$listen'"
  echo "unix_socket_directories = ''"
  if [ "$keep_archiving" = 0 ]; then echo "archive_mode = off"; fi
} | as_pg tee -a "$datadir/postgresql.auto.conf" >/dev/null
as_pg touch "$datadir/recovery.signal"

logf=$datadir/restore.log
# -w: returns once the server accepts connections (at the consistent point while it replays, as a
# hot standby) or has stopped; replay to the target continues after that.
as_pg "$BIN/pg_ctl" -D "$datadir" -l "$logf" -w -t "$timeout" start >/dev/null ||
  { tail -n 30 "$logf" >&2; die "PostgreSQL did not start on $datadir"; }

host=${listen%%,*}; [ "$host" != '*' ] || host=127.0.0.1
q() { "$BIN/psql" -X -w -At -h "$host" -p "$port" -U "$pguser" -d postgres -c "$1" 2>/dev/null; }
running() { as_pg "$BIN/pg_ctl" -D "$datadir" status >/dev/null 2>&1; }
deadline=$((SECONDS + timeout))
until [ "$(q 'SELECT pg_is_in_recovery()' || true)" = f ]; do
  if ! running; then
    tail -n 30 "$logf" >&2
    die "PostgreSQL stopped during the restore (log above, full log $logf)"
  fi
  if [ "$SECONDS" -ge "$deadline" ]; then
    tail -n 30 "$logf" >&2
    die "the restore did not finish within ${timeout}s; the server still replays WAL ($logf)"
  fi
  sleep 0.2
done
# Writable: a transaction id is only handed out by a primary.
q 'SELECT txid_current()' >/dev/null || die "the restored server is up but refuses writes ($logf)"
tli=$(q 'SELECT timeline_id FROM pg_control_checkpoint()')
stop_line=$(grep -E 'recovery stopping (before|after)' "$logf" | tail -1 | sed 's/^.*LOG: *//' || true)
log "done: $datadir on $host:$port, timeline $tli, writable${stop_line:+; $stop_line}"
