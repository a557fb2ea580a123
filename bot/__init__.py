"""Chat front ends: Slack (and later Teams) handlers, pure card builders, the message catalogue,
command parsing, signed button tokens and the console channel. Handlers reach the rest of
Fintropy only through ``bot.backend.Backend``.
"""
