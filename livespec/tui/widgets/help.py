"""The help screen: every key binding of the app, generated from its bindings."""

from __future__ import annotations

from typing import ClassVar

from rich.table import Table
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.keys import key_to_character
from textual.screen import ModalScreen
from textual.widgets import Static


def key_label(key: str) -> str:
    """A key as the help shows it (``question_mark`` -> ``?``, ``less_than_sign`` -> ``<``):
    Textual's key names of printable characters become the characters."""
    names = {"space": "space", "escape": "esc", "plus": "+", "minus": "-"}

    def one(name: str) -> str:
        name = name.strip()
        if name in names:
            return names[name]
        char = key_to_character(name)
        return char if char is not None and len(char) == 1 and char.isprintable() else name

    return ", ".join(one(k) for k in key.split(","))


class HelpScreen(ModalScreen[None]):
    """A table of keys and what they do; any of escape, q or ? closes it."""

    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll {
        width: 72; max-width: 100%; height: auto; max-height: 100%;
        border: round $accent; background: $surface; padding: 0 1;
    }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,question_mark", "app.pop_screen", "Close", id="help_close"),
    ]

    def __init__(self, bindings: list[tuple[str, str]]) -> None:
        super().__init__()
        self.rows = bindings

    def compose(self) -> ComposeResult:
        """The table of (keys, description)."""
        table = Table(box=None, show_header=True, header_style="bold", expand=True)
        table.add_column("Key", style="bold bright_cyan", no_wrap=True)
        table.add_column("Action")
        for key, desc in self.rows:
            table.add_row(key_label(key), desc)
        with VerticalScroll():
            yield Static("[b]livespec keys[/b]  (also in the command palette: ctrl+p)")
            yield Static(table)
