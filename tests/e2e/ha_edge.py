#!/usr/bin/env python3
"""The front of the HA topology seen from a client: TLS checked against the local CA at the edge
and at the balancer, HTTP/2 offered by both, classic attacks refused by the edge's WAF with the
contract's JSON error while ordinary requests (Korean text included) pass, public catalogue pages
cached for a few seconds but never a request with credentials, and a gateway draining on SIGTERM
without a single failed request.
Usage: ha_edge.py EDGE_URL BALANCER_URL ADMIN STATE_DIR (SSL_CERT_FILE names the local CA; the
gateway to drain is STATE_DIR/gateway-2.pid)"""
import json, os, signal, ssl, subprocess, sys, threading, time, urllib.parse, urllib.request

import api

EDGE, LB, ADMIN, STATE = sys.argv[1:5]
edge, lb = api.make_call(EDGE), api.make_call(LB)
check = api.Checks()


def curl(*args):
    return subprocess.run(["curl", "-s", *args], capture_output=True, text=True, timeout=30).stdout


# --- TLS from the local CA, HTTP/2 and HTTP/1.1
for name, call in (("edge", edge), ("balancer", lb)):
    s, b, _ = call("GET", "/readyz")
    check(f"{name} answers over TLS checked against the local CA", s == 200, (s, b))
for name, base in (("edge", EDGE), ("balancer", LB)):
    check(f"{name} speaks HTTP/2", curl("-o", "/dev/null", "-w", "%{http_version}", "--http2",
                                        base + "/v1/events") == "2")
    check(f"{name} speaks HTTP/1.1", curl("-o", "/dev/null", "-w", "%{http_version}", "--http1.1",
                                          base + "/v1/events") == "1.1")
try:
    urllib.request.urlopen(EDGE + "/readyz", timeout=10, context=ssl.create_default_context(
        cafile="/etc/ssl/certs/ca-certificates.crt" if os.path.exists(
            "/etc/ssl/certs/ca-certificates.crt") else None))
    check("a client without the local CA refuses the certificate", False)
except urllib.error.URLError as ex:
    check("a client without the local CA refuses the certificate",
          isinstance(ex.reason, ssl.SSLCertVerificationError), ex)

# --- the WAF: attacks refused with the contract's error body, ordinary requests pass
def blocked(status, body):
    return status == 403 and body.get("error", {}).get("code") == "request_blocked"


attacks = {
    "XSS in the query": ("GET", "/v1/events?q=" + urllib.parse.quote("<script>alert(1)</script>"), None),
    "SQL injection in the query": ("GET", "/v1/events?q=" + urllib.parse.quote("1' OR '1'='1' --"), None),
    "XSS in a JSON body": ("POST", "/v1/accounts", {"email": "x@example.com", "password": "password-123",
                                                    "name": "<script>document.cookie</script>"}),
    "SQL injection in a JSON body": ("POST", "/v1/sessions", {
        "email": "a@example.com' UNION SELECT password_hash FROM accounts--", "password": "x"}),
    "path traversal": ("GET", "/v1/events?file=" + urllib.parse.quote("../../../../etc/passwd"), None),
    "shell injection": ("GET", "/v1/events?q=" + urllib.parse.quote(";cat /etc/passwd"), None),
}
for name, (method, path, body) in attacks.items():
    s, b, _ = edge(method, path, body)
    check(f"WAF refuses {name}", blocked(s, b), (s, b))
s, b, _ = edge("GET", "/v1/events/..%2f..%2f..%2f..%2fetc%2fpasswd")
check("a path the edge cannot read gets the contract's error", s == 400 and
      b.get("error", {}).get("code") == "bad_request", (s, b))
s, b, _ = edge("GET", "/v1/events?q=" + urllib.parse.quote("아이유 콘서트 2026"))
check("a Korean search passes the WAF", s == 200 and "events" in b, (s, b))
email = f"edge{int(time.time() * 1000)}@example.com"
s, b, _ = edge("POST", "/v1/accounts", {"email": email, "password": "correct horse battery",
                                        "name": "김민지 O'Brien"})
check("an ordinary sign-up passes the WAF", s == 201, (s, b))
s, b, _ = edge("POST", "/v1/accounts", None)
check("the service still judges bodies itself", s == 400, (s, b))

# --- the catalogue cached at the edge for a few seconds; never with credentials
probe = f"/v1/events?q=cachecheck{int(time.time() * 1000)}"
statuses = []
for _ in range(2):
    _, _, h = edge("GET", probe)
    statuses.append(h.get("X-Cache-Status"))
check("a public catalogue page is served from the edge's cache", statuses == ["MISS", "HIT"], statuses)
_, _, h = edge("GET", probe, None, {"Authorization": "Bearer " + ADMIN})
check("a request with credentials bypasses the cache", h.get("X-Cache-Status") == "BYPASS",
      h.get("X-Cache-Status"))
_, _, h = edge("GET", "/v1/me", None, {"Authorization": "Bearer nobody"})
check("a buyer's page is not cached", h.get("X-Cache-Status") is None, h.get("X-Cache-Status"))

# --- graceful drain: SIGTERM on one gateway, requests keep succeeding through the other
results, stop = [], threading.Event()


def hammer():
    # Credentials keep these out of the edge's cache, so each one reaches a gateway.
    while not stop.is_set():
        try:
            s, _, _ = edge("GET", "/v1/events", None, {"Authorization": "Bearer not-a-session"})
        except Exception as ex:  # noqa: BLE001
            s = str(ex)
        results.append(s)


threads = [threading.Thread(target=hammer) for _ in range(4)]
for t in threads:
    t.start()
time.sleep(0.5)
pid = int(open(os.path.join(STATE, "gateway-2.pid")).read())
os.kill(pid, signal.SIGTERM)
for _ in range(200):  # the gateway exits by itself once drained
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        break
    time.sleep(0.05)
time.sleep(0.5)
stop.set()
for t in threads:
    t.join()
try:
    os.kill(pid, 0)
    exited = False
except ProcessLookupError:
    exited = True
check("the drained gateway exited", exited)
bad = [x for x in results if x != 200]
check("no request failed while a gateway drained", len(results) > 50 and not bad,
      f"{len(results)} requests, failures {bad[:5]}")
check.finish()
