"""Fixtures: moto_fixtures (filled in by its owner)."""
