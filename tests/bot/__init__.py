"""Tests for the chat front ends."""
