"""The live app's controllers: plain classes behind its keys, owned by the app."""
