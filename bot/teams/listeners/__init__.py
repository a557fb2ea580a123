"""Teams handlers, one module per surface: @mention commands, card actions, installations."""
