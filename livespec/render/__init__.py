"""Pure rendering code: colour maps and dB rows -> Strips (no Textual widgets)."""
