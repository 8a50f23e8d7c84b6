"""Thin Textual widgets of the live app."""
