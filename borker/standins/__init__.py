"""Local stand-ins for the Slack Web API, Postiz and an OpenAI-compatible server.

They exist for ``borker demo`` and the test suite. Production code never falls
back to them: they are only started by the demo command and by test fixtures.
"""
