"""argparse's usage errors as livespec prints them: one line, exit status 2 (docs/cli.md).

An unknown option is named alone, with the nearest option the command has
(``livespec play --device X f.wav``: "unknown option --device (did you mean
--output-device?)"), instead of argparse's list of every argument it could not place.
"""

from __future__ import annotations

import argparse
from typing import NoReturn

from livespec.errors import UsageError

SUBCOMMANDS = (
    "devices", "peaks", "config", "record", "export", "measure", "stream", "view", "play",
)  # fmt: skip
_UNRECOGNIZED = "unrecognized arguments: "


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line and exit status 2."""

    def error(self, message: str) -> NoReturn:
        unknown = message.split(_UNRECOGNIZED, 1)[1].split() if _UNRECOGNIZED in message else []
        if self.prog == "livespec" and unknown and unknown[0] in SUBCOMMANDS:
            # 'livespec --config F peaks ...': the options went to the live app's parser
            raise UsageError(
                f"the command goes first: livespec {unknown[0]} [options] "
                f"(options before it are the live app's; see 'livespec {unknown[0]} --help')"
            )
        options = [u.split("=", 1)[0] for u in unknown if u.startswith("-") and len(u) > 1]
        if options:
            names = ", ".join(dict.fromkeys(options))
            what = "unknown option" + ("s" if len(set(options)) > 1 else "")
            near = self.nearest(options[0])
            hint = f" (did you mean {near}?)" if near else ""
            raise UsageError(f"{what} {names}{hint} (see '{self.prog} --help')")
        raise UsageError(f"{message} (see '{self.prog} --help')")

    def nearest(self, option: str) -> str | None:
        """The command's option most like ``option`` (a typo, or a name another command
        uses, e.g. ``--device`` for ``--output-device``), or None."""
        import difflib  # only on a mistake: not on every start-up

        known = [o for o in self._option_string_actions if o.startswith("--")]
        if not option.startswith("--"):
            return None
        close = difflib.get_close_matches(option, known, n=1, cutoff=0.6)
        if close:
            return close[0]
        within = [o for o in known if option[2:] and option[2:] in o]
        return within[0] if len(within) == 1 else None
