"""Fixtures: pg_fixtures (filled in by its owner)."""
