"""acuerdo-bot, installed under one name: `acuerdo.index` (the core, folder index/) and
`acuerdo.bot` (the Telegram bot and the `acuerdo` command, folder bot/).

The two are symlinks to the top-level folders, so the checkout keeps its layout and every
tool sees the installed one.
"""
