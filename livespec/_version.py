"""The package version, in a module of its own: ``livespec.recorder`` reads it without
importing the package root (which re-exports the API that uses the recorder)."""

__version__ = "0.1.0"
