#!/usr/bin/env bash
# The backups' object store behind one interface (the local stand-in for S3).
#
#   objstore.sh put FILE KEY     store FILE (- : standard input) as KEY
#   objstore.sh get KEY FILE     fetch KEY into FILE (- : standard output); FILE appears whole or
#                                not at all
#   objstore.sh exists KEY       exit 0 if KEY exists, 1 if not
#   objstore.sh list [PREFIX]    the keys that start with PREFIX, one a line, sorted
#   objstore.sh rm KEY...        delete keys (a missing key is not an error)
#
# Where: TK_BACKUP_URL
#   file:///path         a local folder (or a mounted volume). A put writes a temporary file in
#                        the key's folder, fsyncs it, links it into place (which never replaces an
#                        existing file) and fsyncs the folder: a crash leaves the old state or the
#                        new one, never half an object.
#   s3://bucket/prefix   Amazon S3 (or any S3 API) through the `aws` CLI, with its usual
#                        configuration (AWS_PROFILE, AWS_REGION, instance role, ~/.aws of the user
#                        running the script); TK_BACKUP_AWS_ARGS adds options to every call (e.g.
#                        `--endpoint-url https://minio:9000`). Not exercised by test.sh, which has
#                        no network.
#
# An object is never replaced by different content: a put onto an existing key succeeds only if
# the content is the same (a repeated put after a crash, as PostgreSQL's archive_command contract
# requires), and fails with exit status 3 otherwise. Keys: letters, digits, '.', '_', '-', '/';
# no empty segment, none starting with '.'.
#
# Exit status: 0 done; 1 no such key (get, exists); 2 usage or configuration; 3 put onto a key
# holding other content; 4 I/O or store error.
set -euo pipefail
umask 027  # backups hold every row of the database: not world-readable

prog=$(basename "$0")
fail() { printf '%s: %s\n' "$prog" "$2" >&2; exit "$1"; }
usage() { sed -n '2,9p' "$0" >&2; exit 2; }

cmd=${1:-}; [ -n "$cmd" ] || usage; shift
url=${TK_BACKUP_URL:-}
[ -n "$url" ] || fail 2 "TK_BACKUP_URL is not set (file:///path or s3://bucket/prefix)"

check_key() {
  case $1 in
    '' | /* | */ | *//* | .* | */.*) fail 2 "invalid key '$1'" ;;
  esac
  [[ $1 =~ ^[A-Za-z0-9._/-]+$ ]] || fail 2 "invalid key '$1'"
}

# --- file:// -------------------------------------------------------------------------------------
file_root() {
  local root=${url#file://}
  root=${root%/}
  case $root in /*) ;; *) fail 2 "file URL must be absolute: file:///path" ;; esac
  printf '%s\n' "$root"
}

file_put() {  # SRC KEY
  local src=$1 key=$2 root dest dir tmp
  root=$(file_root); dest=$root/$key; dir=$(dirname "$dest")
  if [ ! -d "$dir" ]; then
    mkdir -p "$dir" || fail 4 "cannot create $dir"
    sync "$(dirname "$dir")" 2>/dev/null || true
  fi
  tmp=$(mktemp "$dir/.tmp.$(basename "$key").XXXXXX") || fail 4 "cannot write in $dir"
  # shellcheck disable=SC2064 # expand now: tmp is local
  trap "rm -f '$tmp'" EXIT
  if [ "$src" = - ]; then cat >"$tmp" || fail 4 "write to $tmp failed"
  else cat <"$src" >"$tmp" || fail 4 "cannot copy $src"; fi
  sync "$tmp" || fail 4 "fsync of $tmp failed"
  # link(2) is atomic and never replaces an existing name.
  if ln "$tmp" "$dest" 2>/dev/null; then
    rm -f "$tmp"
    sync "$dir" || fail 4 "fsync of $dir failed"
    return 0
  fi
  if [ -e "$dest" ]; then
    cmp -s "$tmp" "$dest" && { rm -f "$tmp"; return 0; }
    fail 3 "$key exists with other content; not replaced"
  fi
  # A file system without hard links: rename without replacing (not atomic against a concurrent
  # put of the same key, which one archiver per cluster never does).
  mv -n -T "$tmp" "$dest" 2>/dev/null || fail 4 "cannot store $key"
  if [ -e "$tmp" ]; then
    cmp -s "$tmp" "$dest" && { rm -f "$tmp"; return 0; }
    fail 3 "$key exists with other content; not replaced"
  fi
  sync "$dir" || fail 4 "fsync of $dir failed"
}

file_get() {  # KEY DEST
  local key=$1 dest=$2 src
  src=$(file_root)/$key
  [ -f "$src" ] || fail 1 "no such key: $key"
  if [ "$dest" = - ]; then cat "$src" || fail 4 "cannot read $key"; return 0; fi
  cat "$src" >"$dest.objstore-tmp" || { rm -f "$dest.objstore-tmp"; fail 4 "cannot fetch $key to $dest"; }
  mv -f "$dest.objstore-tmp" "$dest"
}

file_list() {  # PREFIX
  local prefix=$1 root base
  root=$(file_root)
  base=${prefix%/*}; [ "$base" != "$prefix" ] || base=''   # the folder part of the prefix
  [ -d "$root/$base" ] || return 0
  find "$root/$base" -type f ! -name '.tmp.*' -printf "${base:+$base/}%P\n" 2>/dev/null |
    awk -v p="$prefix" 'index($0, p) == 1' | LC_ALL=C sort
}

file_rm() {  # KEY
  local root dir
  root=$(file_root)
  rm -f "$root/$1" || fail 4 "cannot delete $1"
  # Drop folders left empty (a deleted base backup's), never the root.
  dir=$(dirname "$root/$1")
  while [ "$dir" != "$root" ] && rmdir "$dir" 2>/dev/null; do dir=$(dirname "$dir"); done
}

# --- s3:// ---------------------------------------------------------------------------------------
s3_split() {  # sets bucket and pfx ('' or 'some/prefix/')
  local rest=${url#s3://}
  bucket=${rest%%/*}
  pfx=${rest#"$bucket"}; pfx=${pfx#/}; pfx=${pfx%/}
  [ -z "$pfx" ] || pfx=$pfx/
  [ -n "$bucket" ] || fail 2 "s3 URL needs a bucket: s3://bucket/prefix"
}
aws_() {
  command -v aws >/dev/null || fail 2 "the aws CLI is needed for s3:// stores"
  # shellcheck disable=SC2086 # TK_BACKUP_AWS_ARGS: options split on spaces on purpose
  aws ${TK_BACKUP_AWS_ARGS:-} "$@"
}
s3_exists() { aws_ s3api head-object --bucket "$bucket" --key "$pfx$1" >/dev/null 2>&1; }

s3_put() {  # SRC KEY
  local src=$1 key=$2 tmp have
  tmp=$(mktemp); have=$(mktemp)
  # shellcheck disable=SC2064
  trap "rm -f '$tmp' '$have'" EXIT
  if [ "$src" = - ]; then cat >"$tmp"; src=$tmp; fi
  if s3_exists "$key"; then
    aws_ s3 cp --only-show-errors "s3://$bucket/$pfx$key" "$have" || fail 4 "cannot read $key"
    cmp -s "$src" "$have" && return 0
    fail 3 "$key exists with other content; not replaced"
  fi
  # An S3 PUT is atomic: the object is visible whole or not at all.
  aws_ s3 cp --only-show-errors "$src" "s3://$bucket/$pfx$key" || fail 4 "upload of $key failed"
}
s3_get() {  # KEY DEST
  s3_exists "$1" || fail 1 "no such key: $1"
  if [ "$2" = - ]; then aws_ s3 cp --only-show-errors "s3://$bucket/$pfx$1" - || fail 4 "cannot read $1"; return 0; fi
  aws_ s3 cp --only-show-errors "s3://$bucket/$pfx$1" "$2.objstore-tmp" ||
    { rm -f "$2.objstore-tmp"; fail 4 "cannot fetch $1"; }
  mv -f "$2.objstore-tmp" "$2"
}
s3_list() {  # PREFIX
  local out
  out=$(aws_ s3api list-objects-v2 --bucket "$bucket" --prefix "$pfx$1" --query 'Contents[].Key' \
        --output text) || fail 4 "cannot list s3://$bucket/$pfx$1"
  [ "$out" = None ] && return 0
  printf '%s\n' "$out" | tr '\t' '\n' | sed '/^$/d' | while IFS= read -r k; do
    printf '%s\n' "${k#"$pfx"}"
  done | LC_ALL=C sort
}
s3_rm() { aws_ s3 rm --only-show-errors "s3://$bucket/$pfx$1" || fail 4 "cannot delete $1"; }

case $url in
  file://*) kind="file" ;;
  s3://*) kind="s3"; s3_split ;;
  *) fail 2 "unsupported TK_BACKUP_URL '$url' (file:///path or s3://bucket/prefix)" ;;
esac

case $cmd in
  put)
    [ $# = 2 ] || usage
    check_key "$2"
    [ "$1" = - ] || [ -f "$1" ] || fail 4 "no such file: $1"
    "${kind}_put" "$1" "$2" ;;
  get) [ $# = 2 ] || usage; check_key "$1"; "${kind}_get" "$1" "$2" ;;
  exists)
    [ $# = 1 ] || usage; check_key "$1"
    if [ $kind = file ]; then [ -f "$(file_root)/$1" ] || exit 1; else s3_exists "$1" || exit 1; fi ;;
  list)
    [ $# -le 1 ] || usage
    [[ ${1:-} =~ ^[A-Za-z0-9._/-]*$ ]] || fail 2 "invalid prefix '$1'"
    "${kind}_list" "${1:-}" ;;
  rm) [ $# -ge 1 ] || usage; for k in "$@"; do check_key "$k"; "${kind}_rm" "$k"; done ;;
  *) usage ;;
esac
