"""livespec.record."""
