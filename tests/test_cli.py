"""The ``borker`` command's start-up checks, run as a real process."""

from __future__ import annotations

import os
import subprocess
import sys


def run_borker(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {key: value for key, value in os.environ.items() if not key.startswith(("SLACK_", "BORKER_", "POSTIZ_", "OPENAI_"))}
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args], env={**clean, **env}, capture_output=True, text=True, timeout=60
    )


def test_serve_names_missing_setting() -> None:
    result = run_borker("serve", env={})
    assert result.returncode == 2
    assert result.stderr.strip() == "borker: Missing required setting SLACK_BOT_TOKEN: set it in the environment."


def test_serve_names_invalid_setting() -> None:
    env = {
        "SLACK_BOT_TOKEN": "xoxb-1",
        "SLACK_SIGNING_SECRET": "s",
        "BORKER_REVIEW_CHANNEL": "C0REVIEW",
        "BORKER_WEBHOOK_TOKEN": "0123456789abcdef0123",
        "BORKER_TIMEZONE": "Mars/Olympus",
    }
    result = run_borker("serve", env=env)
    assert result.returncode == 2
    assert "BORKER_TIMEZONE" in result.stderr
    assert "Mars/Olympus" in result.stderr
    assert "xoxb-1" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_short_webhook_token_rejected() -> None:
    env = {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s", "BORKER_REVIEW_CHANNEL": "C0REVIEW",
           "BORKER_WEBHOOK_TOKEN": "short"}
    result = run_borker("serve", env=env)
    assert result.returncode == 2
    assert "BORKER_WEBHOOK_TOKEN" in result.stderr
