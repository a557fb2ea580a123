"""Bolt listeners, one module per Slack surface: slash commands, block actions, modal views."""
