"""livespec.tui.controllers."""
