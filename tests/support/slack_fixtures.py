"""Fixtures: slack_fixtures (filled in by its owner)."""
