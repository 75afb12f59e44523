#!/usr/bin/env python3
"""Static checks of deploy/Dockerfile (the runtime-root check and its neighbours), offline.

The image itself is built and run by deploy/image.sh; these checks keep the properties a
deployment relies on from regressing in the file: several stages, a Debian 12 base, a runtime
stage that runs as an unprivileged numeric user with a health check and an entrypoint, no secret
baked into the image, and a build context that leaves out the repository's history and local
state. Each check also runs against a copy with its property broken, which must fail.
Usage: check_dockerfile.py [DOCKERFILE] [DOCKERIGNORE]
"""
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SECRET = re.compile(r"(SECRET|TOKEN|PASSWORD|PASSWD|_KEY)\b", re.I)


def instructions(text):
    """(INSTRUCTION, arguments) pairs with continuation lines joined and comments dropped."""
    out, cur = [], ""
    for line in text.splitlines():
        s = line.strip()
        if not cur and (not s or s.startswith("#")):
            continue
        cur += (" " if cur else "") + s.rstrip("\\").strip()
        if not s.endswith("\\"):
            word, _, rest = cur.partition(" ")
            out.append((word.upper(), rest.strip()))
            cur = ""
    return out


def stages(ins):
    result, cur = [], None
    for word, rest in ins:
        if word == "FROM":
            cur = {"from": rest, "ins": []}
            result.append(cur)
        elif cur is not None:
            cur["ins"].append((word, rest))
    return result


def check(dockerfile, dockerignore):
    """Returns [(name, ok, detail)]."""
    ins = instructions(dockerfile)
    st = stages(ins)
    args = {r.split("=", 1)[0]: r.split("=", 1)[1] for w, r in ins if w == "ARG" and "=" in r}
    res = []

    def base(s):
        image = s["from"].split()[0]
        return re.sub(r"\$\{?(\w+)\}?", lambda m: args.get(m.group(1), m.group(0)), image)

    res.append(("multi-stage build", len(st) >= 2, f"{len(st)} stage(s)"))
    res.append(("every stage on Debian 12",
                bool(st) and all(re.match(r"(docker\.io/(library/)?)?debian:(12|bookworm)", base(s))
                                 for s in st), ", ".join(base(s) for s in st)))
    rt = st[-1]["ins"] if st else []
    users = [r for w, r in rt if w == "USER"]
    user = users[-1].split(":")[0] if users else ""
    res.append(("runtime runs as a numeric non-root user",
                user.isdigit() and int(user) != 0, f"USER {users[-1] if users else '(none)'}"))
    copied_from_build = any(w == "COPY" and "--from=" in r for w, r in rt)
    res.append(("runtime copies the build's output (no compiler in it)",
                copied_from_build and not any(w == "RUN" and re.search(r"\b(cmake|g\+\+|ninja|npm)\b", r)
                                               for w, r in rt), ""))
    res.append(("health check in the runtime stage",
                any(w == "HEALTHCHECK" and "CMD" in r and "NONE" not in r for w, r in rt), ""))
    res.append(("exec-form entrypoint (signals reach the service)",
                any(w == "ENTRYPOINT" and r.startswith("[") for w, r in rt), ""))
    leaked = [f"{w} {r}" for w, r in ins if w in ("ENV", "ARG", "LABEL") and SECRET.search(r)]
    res.append(("no secret set in the image", not leaked, "; ".join(leaked)))
    ignored = {l.strip().rstrip("/") for l in dockerignore.splitlines()
               if l.strip() and not l.startswith("#")}
    missing = [p for p in (".git", ".local", "**/node_modules") if p not in ignored]
    res.append(("build context leaves out history, local state and node_modules", not missing,
                "missing: " + ", ".join(missing) if missing else ""))
    return res


# A broken copy per check: the check of that name must fail on it.
BREAKS = {
    "multi-stage build": lambda d, i: (re.sub(r"(?s)FROM \$\{BASE\}\s*\n(?!.*AS build).*", "", d), i),
    "every stage on Debian 12": lambda d, i: (d.replace("ARG BASE=debian:12-slim", "ARG BASE=ubuntu:24.04"), i),
    "runtime runs as a numeric non-root user": lambda d, i: (re.sub(r"\nUSER [^\n]*", "\nUSER 0:0", d), i),
    "runtime copies the build's output (no compiler in it)":
        lambda d, i: (d + "\nRUN cmake --build /tmp/build\n", i),
    "health check in the runtime stage": lambda d, i: (re.sub(r"HEALTHCHECK", "# HEALTHCHECK", d), i),
    "exec-form entrypoint (signals reach the service)":
        lambda d, i: (re.sub(r"ENTRYPOINT \[[^\n]*", "ENTRYPOINT /opt/ticketing/bin/ticketing", d), i),
    "no secret set in the image": lambda d, i: (d + "\nENV TICKETING_SECRET=abc\n", i),
    "build context leaves out history, local state and node_modules":
        lambda d, i: (d, i.replace(".git\n", "")),
}


def main():
    df = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "deploy/Dockerfile"
    di = Path(sys.argv[2]) if len(sys.argv) > 2 else ROOT / ".dockerignore"
    d, i = df.read_text(), di.read_text()
    passed = failed = 0
    for name, ok, detail in check(d, i):
        print(f"{'ok  ' if ok else 'FAIL'} {name}" + (f" ({detail})" if detail and not ok else ""))
        passed, failed = passed + ok, failed + (not ok)
    for name, brk in BREAKS.items():
        verdict = {n: ok for n, ok, _ in check(*brk(d, i))}
        ok = verdict.get(name) is False
        print(f"{'ok  ' if ok else 'FAIL'} the check '{name}' fails on a copy without it")
        passed, failed = passed + ok, failed + (not ok)
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
