"""Signal processing: windows, planned FFTs, dBFS rows and peaks (headless)."""
