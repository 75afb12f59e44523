#!/usr/bin/env bash
# Takes a base backup of a PostgreSQL primary into the object store, then applies the retention.
#
#   basebackup.sh [--keep N] [-h HOST] [-p PORT] [-U USER]
#
# Store: TK_BACKUP_URL (see objstore.sh). Connection: the options or libpq's PGHOST, PGPORT,
# PGUSER, PGPASSWORD / ~/.pgpass; the user needs the REPLICATION attribute (or superuser) and a
# `replication` line in pg_hba.conf. The server must archive its WAL to the same store
# (archive-settings.sh): the base holds no WAL of its own (pg_basebackup -X none), it is restored
# with the archived WAL from its start onwards.
#
# Writes, under base/<UTC timestamp>/:
#   base.tar.gz       the data directory (pg_basebackup -Ft -z), with its backup_label
#   backup_manifest   every file's size and SHA-256 (restore.sh checks them with pg_verifybackup)
#   info              written last, so a base without it is incomplete and never used: label,
#                     start and end LSN and WAL file, timeline, system identifier, and stop_epoch,
#                     the server's clock after the backup ended (restore.sh only uses a base whose
#                     stop_epoch is at or before the target time)
# The script returns only once the WAL file holding the backup's end is in the store, so every base
# it reports is restorable.
#
# Retention (--keep N, or TK_BACKUP_KEEP, default 7): the N newest complete bases are kept; older
# ones, incomplete ones older than the newest complete one, and every archived WAL file older than
# the oldest kept base's start are deleted (timeline history files are always kept). The oldest
# point a restore can reach is then the oldest kept base's end.
#
# One run at a time per store (a lock file in TMPDIR); cron runs it nightly (README.md).
set -euo pipefail
# shellcheck source=deploy/backup/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

keep=${TK_BACKUP_KEEP:-7}
while [ $# -gt 0 ]; do
  case $1 in
    --keep) keep=${2:?--keep N}; shift ;;
    -h) export PGHOST=${2:?}; shift ;;
    -p) export PGPORT=${2:?}; shift ;;
    -U) export PGUSER=${2:?}; shift ;;
    --help) sed -n '2,28p' "$0"; exit 0 ;;
    *) die "unknown option $1 (see --help)" 2 ;;
  esac
  shift
done
[[ $keep =~ ^[1-9][0-9]*$ ]] || die "--keep needs a count of at least 1" 2
need_url
BIN=$(pg_bin)
wait_archive=${TK_BACKUP_ARCHIVE_WAIT:-300}

sql() { "$BIN/psql" -X -w -At -v ON_ERROR_STOP=1 -d "${PGDATABASE:-postgres}" -c "$1"; }

exec 9>"${TMPDIR:-/tmp}/tk-basebackup.$(printf '%s' "$TK_BACKUP_URL" | sha256sum | cut -c1-16).lock"
flock -n 9 || die "another basebackup.sh runs for $TK_BACKUP_URL"

[ "$(sql 'SELECT pg_is_in_recovery()')" = f ] || die "the server is a standby; take the base from the primary"
[ "$(sql 'SHOW archive_mode')" != off ] ||
  die "archive_mode is off: a base without archived WAL cannot be restored (archive-settings.sh)"
# With -X none the server ends a base backup only once its last WAL file is archived, however long
# that takes: a failing archive_command is refused here rather than waited for without end.
[ "$(sql "SELECT COALESCE(last_failed_time > COALESCE(last_archived_time, '-infinity'), false)
            FROM pg_stat_archiver")" = f ] ||
  die "archive_command is failing (pg_stat_archiver: the last attempt failed); fix archiving first"

ts=$(now_stamp)
while [ -n "$(store list "base/$ts/")" ]; do sleep 1; ts=$(now_stamp); done
work=$(mktemp -d "${TMPDIR:-/tmp}/tk-basebackup.XXXXXX")
trap 'rm -rf "$work"' EXIT
label="tk-base-$ts"

log "base backup $ts from ${PGHOST:-local socket}:${PGPORT:-5432}"
"$BIN/pg_basebackup" -w -D "$work/pg" -Ft -z -X none -c fast -l "$label" \
  --manifest-checksums=SHA256 >"$work/pg_basebackup.log" 2>&1 ||
  { cat "$work/pg_basebackup.log" >&2; die "pg_basebackup failed"; }
stop_epoch=$(sql "SELECT extract(epoch FROM clock_timestamp())")
if [ ! -f "$work/pg/base.tar.gz" ] || [ ! -f "$work/pg/backup_manifest" ]; then
  die "pg_basebackup wrote no base.tar.gz/backup_manifest"
fi

# Where the backup starts (its backup_label) and ends (the manifest's WAL range).
tar -xzOf "$work/pg/base.tar.gz" backup_label >"$work/backup_label" || die "base.tar.gz has no backup_label"
start_lsn=$(sed -n 's/^START WAL LOCATION: \([0-9A-F/]*\) (file \([0-9A-F]*\))$/\1/p' "$work/backup_label")
start_wal=$(sed -n 's/^START WAL LOCATION: \([0-9A-F/]*\) (file \([0-9A-F]*\))$/\2/p' "$work/backup_label")
end_lsn=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["WAL-Ranges"][-1]["End-LSN"])' "$work/pg/backup_manifest")
timeline=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["WAL-Ranges"][-1]["Timeline"])' "$work/pg/backup_manifest")
[[ $start_wal =~ ^[0-9A-F]{24}$ ]] || die "cannot read the backup's start from its backup_label"
[ -n "$end_lsn" ] || die "cannot read the backup's end from its manifest"
# The file holding the last byte of the backup's WAL (pg_walfile_name names the previous file
# when the LSN sits on a file boundary, which is what is needed here).
end_wal=$(sql "SELECT pg_walfile_name('$end_lsn')")

for f in "$work"/pg/*; do
  store put "$f" "base/$ts/$(basename "$f")"
done

# The base is restorable once the end of its WAL is archived (the server switched to a new WAL
# file at the backup's end; the archiver ships it within seconds when the store is reachable).
waited=0
until store exists "wal/$end_wal.gz"; do
  [ "$waited" -lt "$((wait_archive * 2))" ] ||
    die "WAL file $end_wal not archived after ${wait_archive}s (archive_command failing? see pg_stat_archiver); base/$ts left incomplete"
  sleep 0.5; waited=$((waited + 1))
done

{
  echo "label=$label"
  echo "stamp=$ts"
  echo "start_time=$(sed -n 's/^START TIME: //p' "$work/backup_label")"
  echo "stop_epoch=$stop_epoch"
  echo "stop_time=$(date -u -d "@$stop_epoch" '+%Y-%m-%d %H:%M:%S UTC')"
  echo "start_lsn=$start_lsn"
  echo "start_wal=$start_wal"
  echo "end_lsn=$end_lsn"
  echo "end_wal=$end_wal"
  echo "timeline=$timeline"
  echo "system_identifier=$(sql 'SELECT system_identifier FROM pg_control_system()')"
  echo "server_version=$(sql 'SHOW server_version_num')"
  echo "size_bytes=$(du -cb "$work"/pg/*.tar.gz | tail -1 | cut -f1)"
} >"$work/info"
store put "$work/info" "base/$ts/info"
log "base/$ts complete (WAL $start_wal .. $end_wal, $(info_field "$work/info" size_bytes) bytes)"

# --- retention -----------------------------------------------------------------------------------
mapfile -t complete < <(store list base/ | sed -n 's#^base/\([^/]*\)/info$#\1#p')
mapfile -t all < <(store list base/ | sed -n 's#^base/\([^/]*\)/.*#\1#p' | uniq)
n=${#complete[@]}
newest=${complete[n - 1]}
drop=() kept=("${complete[@]}")
if [ "$n" -gt "$keep" ]; then
  drop=("${complete[@]:0:n - keep}")
  kept=("${complete[@]:n - keep}")
fi
for b in "${all[@]}"; do   # incomplete bases older than the newest complete one: failed runs
  printf '%s\n' "${complete[@]}" | grep -qx -- "$b" && continue
  if [[ $b < $newest ]]; then drop+=("$b"); fi
done
for b in "${drop[@]}"; do
  log "retention: deleting base/$b"
  mapfile -t keys < <(store list "base/$b/")
  [ "${#keys[@]}" = 0 ] || store rm "${keys[@]}"
done
oldest=${kept[0]}
store get "base/$oldest/info" "$work/oldest.info"
cut_wal=$(info_field "$work/oldest.info" start_wal)
[[ $cut_wal =~ ^[0-9A-F]{24}$ ]] || die "base/$oldest/info has no start_wal; WAL retention skipped"
# Like pg_archivecleanup: compare the log and segment numbers (not the timeline) of WAL files,
# partial files and backup history files; timeline history files stay.
old_wal=()
while IFS= read -r k; do
  w=${k#wal/}
  [[ $w =~ ^[0-9A-F]{24} ]] || continue
  if [[ ${w:8:16} < ${cut_wal:8:16} ]]; then old_wal+=("$k"); fi
done < <(store list wal/)
if [ "${#old_wal[@]}" -gt 0 ]; then
  log "retention: deleting ${#old_wal[@]} WAL files older than $cut_wal (start of base/$oldest)"
  store rm "${old_wal[@]}"
fi
log "kept ${#kept[@]} base(s); the oldest restorable point is the end of base/$oldest ($(info_field "$work/oldest.info" stop_time))"
echo "base/$ts"
