"""Audio capture and sources; everything here is headless (no Textual)."""
