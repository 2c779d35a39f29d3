"""Alembic environment: runs migrations on the URL given by ``api.db.session.alembic_config``."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from api.db.tables import Base

config = context.config
target_metadata = Base.metadata


def run() -> None:
    url = config.get_main_option("sqlalchemy.url")
    if url is None:
        raise RuntimeError("no sqlalchemy.url in the Alembic configuration (see api.db.session.alembic_config)")
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
            with context.begin_transaction():
                context.run_migrations()
    finally:
        engine.dispose()


run()
