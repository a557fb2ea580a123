"""Alembic migrations for Fintropy, run by ``fintropy.persistence.migrate`` (no alembic.ini)."""
