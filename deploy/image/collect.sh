#!/usr/bin/env bash
# Gathers what the runtime image needs from a release build: the binary, the shared libraries it
# links except the C library family (the runtime base has the same Debian 12 glibc), the
# migrations and the ticket font.
#   collect.sh BUILD_DIR OUT   (run from the repository root)
set -euo pipefail
build=$1 out=$2
bin="$build/src/main/ticketing"
mkdir -p "$out/lib" "$out/opt/bin" "$out/opt/share/fonts" "$out/opt/db"
install -m 0755 "$bin" "$out/opt/bin/ticketing"
strip --strip-unneeded "$out/opt/bin/ticketing"
ldd "$bin" | awk '$2 == "=>" && $3 ~ /^\// { print $3 }' | while read -r lib; do
  case $(basename "$lib") in
    libc.so.* | libm.so.* | libdl.so.* | libpthread.so.* | librt.so.* | ld-linux*) ;;
    *) cp -L "$lib" "$out/lib/" ;;
  esac
done
cp -r db/migrations "$out/opt/db/"
cp "$build/share/fonts/NanumGothic-ticket.ttf" "$out/opt/share/fonts/"
[ -d "$out/web" ] && mv "$out/web" "$out/opt/web"
echo "collected: $(ls "$out/lib" | wc -l) libraries, $(du -sh "$out" | cut -f1)"
