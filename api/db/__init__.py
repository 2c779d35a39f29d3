"""Persistence: tables, engine/session, migrations."""
