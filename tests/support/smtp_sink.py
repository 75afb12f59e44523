#!/usr/bin/python3
"""A real SMTP server (aiosmtpd) that keeps every message it accepts as a file.

    smtp_sink.py --port PORT --dir MAILDIR [--refuse-file FILE]

Each accepted message is written atomically as MAILDIR/<n>-<time>.eml (the raw RFC 5322 bytes,
with X-Envelope-To lines first); nothing is ever deduplicated here, so tests can count repeated
deliveries. While FILE exists the server answers DATA with "451 4.3.0 try again later", a
temporary refusal, which lets tests simulate an unavailable mail server.
"""
import argparse
import itertools
import os
import signal
import time

from aiosmtpd.controller import Controller


class Handler:
    def __init__(self, folder, refuse_file):
        self.folder = folder
        self.refuse_file = refuse_file
        self.seq = itertools.count(1)

    async def handle_DATA(self, server, session, envelope):
        if self.refuse_file and os.path.exists(self.refuse_file):
            return "451 4.3.0 try again later"
        n = next(self.seq)
        name = f"{n:08d}-{time.time_ns()}.eml"
        tmp = os.path.join(self.folder, "." + name + ".tmp")
        head = "".join(f"X-Envelope-To: {r}\r\n" for r in envelope.rcpt_tos).encode()
        with open(tmp, "wb") as f:
            f.write(head + envelope.original_content)
            f.flush()
            os.fsync(f.fileno())
        os.rename(tmp, os.path.join(self.folder, name))
        return "250 2.0.0 OK"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--dir", required=True)
    ap.add_argument("--refuse-file", default="")
    a = ap.parse_args()
    os.makedirs(a.dir, exist_ok=True)
    # Attachments make messages large; 32 MiB is far above any receipt.
    c = Controller(Handler(a.dir, a.refuse_file), hostname=a.host, port=a.port,
                   data_size_limit=32 * 1024 * 1024)
    c.start()
    # The controller serves on its own thread; this one waits for the stop signal.
    signal.sigwait({signal.SIGTERM, signal.SIGINT})
    c.stop()


if __name__ == "__main__":
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM, signal.SIGINT})
    main()
