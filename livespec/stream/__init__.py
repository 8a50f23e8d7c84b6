"""livespec.stream."""
