"""Fixtures: temporal_fixtures (filled in by its owner)."""
