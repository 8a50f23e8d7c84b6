"""What the controllers need from the app: a narrow interface."""

from __future__ import annotations

from typing import Protocol

from textual.notifications import SeverityLevel


class Host(Protocol):
    """The app, as the controllers see it (UI thread)."""

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = True,
    ) -> None:
        """Show a notification."""

    def tick(self) -> None:
        """Take the frames that arrived and redraw what changed."""

    def refresh_plot(self) -> None:
        """Redraw the whole plot and the texts (after a change of the view's geometry)."""

    def update_texts(self, force: bool = True) -> None:
        """Update the readout, the axis's peak marker and the status line."""
