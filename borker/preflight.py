"""Configuration checks shown by ``/borker status`` and the App Home tab."""

from __future__ import annotations

from borker.config import Settings


def configuration_checks(settings: Settings) -> list[str]:
    """Return one line per missing piece of configuration, each saying how to fix it."""
    checks: list[str] = []
    if settings.openai_api_key is None and not settings.openai_base_url:
        checks.append(
            ":red_circle: No LLM configured: set OPENAI_API_KEY (and OPENAI_BASE_URL for an OpenAI-compatible server)."
        )
    if settings.postiz_api_key is None:
        checks.append(
            ":large_yellow_circle: No Postiz API key: drafts generate but cannot be scheduled. "
            "Create a key in Postiz → Settings → Developers and set POSTIZ_API_KEY."
        )
    return checks
