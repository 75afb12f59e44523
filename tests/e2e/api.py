"""Tiny HTTP/SQL helpers shared by the black-box tests (race.py, crash.py)."""
import json, subprocess, urllib.request, urllib.error


def make_call(base):
    """Returns call(method, path, body=None, headers=None) -> (status, json body, headers)."""
    def call(method, path, body=None, headers=None):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(base + path, data=data, method=method, headers=headers or {})
        if data is not None:
            req.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                raw = r.read()
                return r.status, (json.loads(raw) if raw else {}), r.headers
        except urllib.error.HTTPError as e:
            raw = e.read()
            try:
                return e.code, json.loads(raw), e.headers
            except ValueError:
                return e.code, {}, e.headers
    return call


def psql(url, sql):
    return subprocess.run(["psql", url, "-At", "-c", sql], capture_output=True, text=True,
                          check=True).stdout.strip()


class Checks:
    """The named checks of a black-box test: `check(name, ok, detail)` prints a failure as it
    comes; `check.finish()` prints the count and exits non-zero when one failed."""

    def __init__(self):
        self.passed = self.failed = 0

    def __call__(self, name, ok, detail=""):
        if ok:
            self.passed += 1
        else:
            self.failed += 1
            print(f"FAIL: {name} {detail}"[:2000])

    def finish(self):
        import sys
        print(f"{self.passed} passed, {self.failed} failed")
        sys.exit(1 if self.failed else 0)
