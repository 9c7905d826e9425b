"""Borker core: content items, their lifecycle, generation, scheduling and the Postiz client.

Nothing in this package imports Slack code; the Slack front end lives in ``bot``.
"""
