"""livespec.measure."""
