"""livespec.tui."""
