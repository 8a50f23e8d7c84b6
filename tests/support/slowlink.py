"""A slow terminal link for tests: stdin to stdout at a fixed rate through a large buffer.

Between an app's pty and the terminal it stands for SSH's buffering (the channel window,
2 MiB in OpenSSH): the app's writes never block until the buffer is full, and the terminal
sees them only as fast as the link carries them. Run as a filter; every second it writes
the bytes buffered and sent so far to ``LOG`` (one ``t buffered sent`` line)::

    script -q -f -c 'livespec ...' /dev/null | python slowlink.py RATE BUFFER LOG

Stdlib only.
"""

from __future__ import annotations

import collections
import os
import sys
import threading
import time


def main() -> int:
    rate, limit, log_path = float(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    chunks: collections.deque[bytes] = collections.deque()
    size = 0
    eof = False
    cv = threading.Condition()

    def reader() -> None:
        nonlocal size, eof
        while True:
            with cv:
                while size >= limit:
                    cv.wait()
            data = os.read(0, 4096)
            with cv:
                if not data:
                    eof = True
                    cv.notify_all()
                    return
                chunks.append(data)
                size += len(data)
                cv.notify_all()

    threading.Thread(target=reader, daemon=True).start()
    t0 = last = time.monotonic()
    sent = 0
    with open(log_path, "w", encoding="utf-8", buffering=1) as log:
        while True:
            with cv:
                if not chunks and not eof:
                    cv.wait(timeout=1.0)  # and log below, idle or not
                if not chunks and eof:
                    return 0
                data = chunks.popleft() if chunks else b""
                size -= len(data)
                buffered = size + len(data)  # this chunk is still on its way
                cv.notify_all()
            if data:
                os.write(1, data)
                sent += len(data)
                due = t0 + sent / rate
                if due > time.monotonic():
                    time.sleep(due - time.monotonic())
            now = time.monotonic()
            if now - last >= 1.0:
                last = now
                log.write(f"{now - t0:.1f} {buffered} {sent}\n")


if __name__ == "__main__":
    sys.exit(main())
