#!/usr/bin/env python3
"""Two gateways share their rate limits (GCRA in Redis): one client's requests sent alternately
through both are limited at the rate one process allows, not twice it.
Usage: gateway_limits.py GATEWAY1_URL GATEWAY2_URL RATE_PER_S BURST"""
import http.client, sys, time, urllib.parse

G1, G2 = sys.argv[1], sys.argv[2]
rate, burst = float(sys.argv[3]), float(sys.argv[4])
conns = []
for g in (G1, G2):
    u = urllib.parse.urlparse(g)
    conns.append(http.client.HTTPConnection(u.hostname, u.port, timeout=10))

n = int(burst * 3)  # two unshared buckets would take 2 x burst without one refusal
codes = []
t0 = time.monotonic()
for i in range(n):
    c = conns[i % 2]
    c.request("GET", "/v1/events")
    r = c.getresponse()
    r.read()
    codes.append(r.status)
elapsed = time.monotonic() - t0
ok = codes.count(200)
limited = codes.count(429)
# One shared bucket lets through the burst plus what refilled meanwhile (+1 for rounding).
allowed = burst + rate * elapsed + 1
print(f"{n} requests in {elapsed:.2f} s through two gateways: {ok} x 200, {limited} x 429 "
      f"(one bucket allows at most {allowed:.0f})")
failed = 0
if ok + limited != n:
    print(f"FAIL: unexpected statuses {sorted(set(codes))}")
    failed += 1
if limited == 0 or ok > allowed:
    print("FAIL: the gateways did not share the per-address limit")
    failed += 1
# Both gateways took part in refusing: the bucket is one, whichever process asks.
if limited and (429 not in codes[0::2] or 429 not in codes[1::2]):
    print("FAIL: only one gateway refused")
    failed += 1
print(f"{3 - failed} passed, {failed} failed")
sys.exit(1 if failed else 0)
