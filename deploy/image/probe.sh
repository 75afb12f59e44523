#!/bin/bash
# The container's health check, without curl in the image: GET PATH (default /readyz) on the
# operations listener and succeed only on a 200.
#   ticketing-probe [PATH]
set -u
port=${TICKETING_OPS_PORT:-9090}
exec 3<>"/dev/tcp/127.0.0.1/$port" || exit 1
printf 'GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n' "${1:-/readyz}" >&3
IFS= read -r -t 3 status <&3 || exit 1
case $status in
  "HTTP/1.1 200"*) exit 0 ;;
  *) exit 1 ;;
esac
