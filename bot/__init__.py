"""acuerdo-bot's adapters over `index`: the Telegram bot and the `acuerdo` command."""
