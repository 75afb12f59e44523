#!/usr/bin/env python3
"""Commit-to-e-mail latency of one bench/mail.sh run (Python 3 standard library only).

    mail_latency.py --paid FILE --mail-dir DIR

FILE: one paid order a line, `<order id> <paid_at in microseconds since the epoch>` (PostgreSQL).
DIR: the SMTP sink's folder (tests/support/smtp_sink.py), one `<n>-<time_ns>.eml` file per accepted
message, time_ns being the sink's clock when it accepted the DATA. Both clocks are this machine's.
Prints one line of key=value figures; exits 1 unless each paid order has exactly one receipt and
no receipt names another order.
"""
import argparse
import email.parser
import glob
import os
import sys


def pct(xs, p):
    """Nearest-rank percentile of a sorted list."""
    return xs[max(0, -(-len(xs) * p // 100) - 1)]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--paid", required=True)
    ap.add_argument("--mail-dir", required=True)
    a = ap.parse_args()
    paid = {}
    with open(a.paid) as f:
        for line in f:
            if line.strip():
                oid, us = line.split()
                paid[oid] = int(us) * 1000
    arrivals, other = {}, 0
    for path in glob.glob(os.path.join(a.mail_dir, "*.eml")):
        with open(path, "rb") as fh:
            msg = email.parser.BytesParser().parse(fh, headersonly=True)
        if msg.get("X-Ticketing-Kind") != "receipt":
            other += 1
            continue
        ns = int(os.path.basename(path).split("-")[1].split(".")[0])
        arrivals.setdefault(msg.get("X-Ticketing-Order"), []).append(ns)
    missing = [o for o in paid if o not in arrivals]
    dups = {o: len(v) for o, v in arrivals.items() if len(v) > 1}
    unknown = [o for o in arrivals if o not in paid]
    if not paid or missing or dups or unknown or other:
        sys.exit(f"mail_latency: {len(paid)} paid orders; {len(missing)} without a receipt "
                 f"{missing[:5]}, {len(dups)} with several {list(dups.items())[:5]}, "
                 f"{len(unknown)} receipts of unknown orders {unknown[:5]}, {other} other e-mails")
    lat = sorted((arrivals[o][0] - t) / 1e6 for o, t in paid.items())
    first, last_commit = min(paid.values()), max(paid.values())
    last_mail = max(v[0] for v in arrivals.values())
    print(f"paid={len(paid)} receipts={len(arrivals)} p50_ms={pct(lat, 50):.1f} "
          f"p95_ms={pct(lat, 95):.1f} p99_ms={pct(lat, 99):.1f} max_ms={lat[-1]:.1f} "
          f"min_ms={lat[0]:.1f} burst_s={(last_commit - first) / 1e9:.2f} "
          f"last_mail_s={(last_mail - first) / 1e9:.2f}")


if __name__ == "__main__":
    main()
