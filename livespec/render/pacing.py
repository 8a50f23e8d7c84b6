"""Flow control for a terminal at the far end of a slow link: hold the screen updates while
the terminal has not yet shown the previous ones.

SSH buffers what the app writes (the channel's window, 2 MiB in OpenSSH, then TCP's
buffers), so over a link slower than the app's output the screen falls minutes behind the
sound before a write ever blocks (measured: through an 8 KB/s link with 2 MB of buffer, a
tone's change had not reached the screen after 120 s). The app therefore asks the terminal
where its cursor is (DSR 6, ``ESC [ 6 n``) after an update; the terminal's reply (CPR)
comes back only once it has parsed everything written before the query. While more than
:data:`WINDOW_BYTES` have been written after the oldest query not answered yet, the
terminal is behind: the app skips drawing (frames still go into the history) until the
reply arrives, then draws the newest state in one update. The bytes in flight stay within
about the window and one update, whatever the link's speed (at 8 KB/s: about 4 s of
lag instead of minutes), and the waterfall moves in larger steps, as often as the link
carries them. A fast link answers long before the window fills and is never held.

Before the first reply the pacer cannot know that the terminal answers at all: it holds
for the first query for at most :data:`FIRST_GIVE_UP_S` (a terminal that never answers
then draws as if unpaced; a link already behind by then catches up once the first reply
arrives). A reply that got lost is asked for again after :data:`REPROBE_S`, and while held
one update still goes out every :data:`KEEPALIVE_S` (a terminal that stopped answering is
not frozen for good).

Pure code, no Textual; the app's UI thread calls it (``now``: monotonic seconds; ``written``:
the bytes handed to the terminal so far).
"""

from __future__ import annotations

from collections import deque

QUERY = "\x1b[6n"  # DSR 6: the terminal answers ESC [ row ; col R
WINDOW_BYTES = 24_000  # hold once this much was written after an unanswered query
PROBE_EVERY_S = 0.25  # at most one query this often while the terminal keeps up
REPROBE_S = 3.0  # ask again when no reply came for this long (a lost reply)
MAX_OUTSTANDING = 4
KEEPALIVE_S = 10.0  # while held, one update still goes out this often
FIRST_GIVE_UP_S = 10.0  # no reply yet after this long: the terminal may never answer


class LinkPacer:
    """When to ask the terminal for a reply, and whether to hold the next update."""

    def __init__(self) -> None:
        self._sent: deque[tuple[float, int]] = deque()  # (time, bytes written) of queries out
        self._last_sent = -1e9
        self._held_since: float | None = None  # start of the current hold (KEEPALIVE_S)
        self.replies = 0  # replies seen
        self.held = 0  # updates held so far

    def probe_due(self, now: float) -> bool:
        """True when a query should follow the update just written."""
        if self._sent:
            return now - self._sent[-1][0] >= REPROBE_S and len(self._sent) < MAX_OUTSTANDING
        return now - self._last_sent >= PROBE_EVERY_S

    def sent(self, now: float, written: int) -> None:
        """A query was written at ``now``, after ``written`` bytes in all."""
        self._sent.append((now, written))
        self._last_sent = now

    def reply(self) -> None:
        """The terminal answered the oldest query still out."""
        self.replies += 1
        if self._sent:
            self._sent.popleft()

    def behind(self, now: float, written: int) -> bool:
        """True when more than the window went out after a query the terminal has not
        answered (before any reply: only during the first :data:`FIRST_GIVE_UP_S`)."""
        if not self._sent:
            return False
        sent_at, mark = self._sent[0]
        if not self.replies and now - sent_at >= FIRST_GIVE_UP_S:
            return False
        return written - mark > WINDOW_BYTES

    def hold(self, now: float, written: int) -> bool:
        """True when the update due at ``now`` should wait (:meth:`behind`; after
        :data:`KEEPALIVE_S` of holding one update goes out all the same)."""
        if not self.behind(now, written):
            self._held_since = None
            return False
        if self._held_since is None:
            self._held_since = now
        elif now - self._held_since >= KEEPALIVE_S:
            self._held_since = now
            return False
        self.held += 1
        return True
