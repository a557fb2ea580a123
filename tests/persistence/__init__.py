"""Tests of fintropy.persistence, fintropy.audit and fintropy.settings."""
