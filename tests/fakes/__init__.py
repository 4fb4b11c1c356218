"""Stand-ins for outside services that only tests use (the demo's fake Telegram stays in bot.simulator)."""
