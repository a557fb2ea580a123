"""The Slack front end: a Bolt app in HTTP mode, its listeners, and the card notifier."""
