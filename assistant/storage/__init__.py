"""Persistence: SQLAlchemy models and the engine (SQLite under DATA_DIR, or PostgreSQL)."""
