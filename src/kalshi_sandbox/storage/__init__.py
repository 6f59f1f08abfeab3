"""Persistence behind one interface; SQLite is the embedded default."""
