"""Microsoft Teams front end: the bot at ``/api/messages`` and proactive card posting.

Only ``bot.teams.seam`` imports the Bot Framework SDK (archived upstream; see the module).
Everything else here works with the plain types and protocols of ``bot.teams.turn``.
"""
