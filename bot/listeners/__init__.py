"""Bolt listeners, one module per Slack surface, each with its own ``register``."""

from slack_bolt import App

from bot.listeners import actions, commands, events, views
from bot.runtime import Runtime


def register_listeners(app: App, runtime: Runtime) -> None:
    commands.register(app, runtime)
    actions.register(app, runtime)
    views.register(app, runtime)
    events.register(app, runtime)
