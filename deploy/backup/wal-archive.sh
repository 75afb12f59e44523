#!/usr/bin/env bash
# PostgreSQL's archive_command: ships one finished WAL file to the object store as wal/NAME.gz.
#   archive_command = 'TK_BACKUP_URL=file:///backups /path/to/deploy/backup/wal-archive.sh %p %f'
# (archive-settings.sh prints these lines.) Exit status 0 only once the file is stored durably;
# anything else makes PostgreSQL keep the file in pg_wal and try again (about every second, then
# every minute), so an unreachable or full store delays archiving but never loses WAL.
# A file already stored is accepted again only if its content is the same (a retry after a crash
# between storing and PostgreSQL noting it); different content under the same name is refused
# loudly: two clusters archiving into one place, or a restored copy that was not given a store of
# its own.
set -euo pipefail
# shellcheck source=deploy/backup/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

[ $# = 2 ] || die "usage: wal-archive.sh %p %f" 2
src=$1 name=$2
need_url
[ -f "$src" ] || die "no such WAL file: $src"
tmp=$(mktemp "${TMPDIR:-/tmp}/tk-wal-archive.XXXXXX")
trap 'rm -f "$tmp"' EXIT
# -n: no name or time in the header, so the same WAL file always compresses to the same bytes.
gzip -1 -n -c "$src" >"$tmp" || die "gzip of $src failed"
rc=0
store put "$tmp" "wal/$name.gz" || rc=$?
case $rc in
  0) exit 0 ;;
  3)
    # Stored already under this name: accepted if it holds the same WAL (a gzip of another
    # version may have produced other bytes for it).
    if store get "wal/$name.gz" - | gzip -dc | cmp -s - "$src"; then exit 0; fi
    die "wal/$name.gz is already in the store with other content: is another cluster archiving to $TK_BACKUP_URL?" ;;
  *) die "could not store $name (objstore exit $rc); PostgreSQL will retry" ;;
esac
