"""Borker's Slack front end: the Bolt app, listeners, Block Kit builders, web server and CLI."""
