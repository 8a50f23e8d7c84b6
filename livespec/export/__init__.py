"""livespec.export."""
