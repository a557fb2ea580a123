"""AWS adapter tests, against a real moto server."""
