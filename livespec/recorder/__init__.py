"""livespec.recorder."""
