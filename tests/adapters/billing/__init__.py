"""Tests of the FOCUS billing adapters."""
