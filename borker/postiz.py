"""Client for the Postiz public API (the ``…/public/v1`` routes).

Postiz takes the organization API key as the whole ``Authorization`` value, with
no ``Bearer`` prefix. It throttles only ``POST /posts``, and some of its responses
are surprising: a successful delete returns ``{"error": true}`` and an unknown id
returns 500. Each quirk is handled next to the call that meets it. Behaviour is
as of gitroomhq/postiz-app at 74b01ada (main, 90 commits after v2.23.0).
"""

from __future__ import annotations

import email.utils
import logging
import math
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from types import TracebackType
from typing import Any, Iterable, Literal
from urllib.parse import quote

import httpx

from borker.errors import BorkerError
from borker.models import Platform

logger = logging.getLogger(__name__)

# Postiz's throttler blocks an organization for its whole one-hour window.
DEFAULT_RETRY_AFTER_SECONDS = 3600

_RETRYABLE_STATUSES = frozenset({502, 503, 504})
_RETRY_DELAY_SECONDS = 0.5
# A GET whose Retry-After requests a longer wait than this is not retried.
_MAX_RETRY_DELAY_SECONDS = 5.0
# An unknown or already-deleted post id makes DELETE /posts/:id fail with 500, so
# the post is looked up this far either side of its publish date to tell the two apart.
_DELETE_CHECK_MARGIN = timedelta(days=2)

_PLATFORMS_BY_IDENTIFIER: dict[str, Platform] = {
    "x": Platform.X,
    "linkedin": Platform.LINKEDIN,
    "linkedin-page": Platform.LINKEDIN,
    # Postiz's code spells the Farcaster provider "wrapcast". Its docs say "warpcast".
    "wrapcast": Platform.FARCASTER,
    "warpcast": Platform.FARCASTER,
}

# Postiz overwrites __type with the channel's provider identifier, so the value
# only documents intent. X rejects a post without who_can_reply_post.
_PROVIDER_SETTINGS: dict[Platform, dict[str, str]] = {
    Platform.X: {"__type": "x", "who_can_reply_post": "everyone"},
    Platform.LINKEDIN: {"__type": "linkedin"},
    Platform.FARCASTER: {"__type": "wrapcast"},
}


class PostizError(BorkerError):
    """A failed Postiz call, with the HTTP status and decoded body when Postiz responded."""

    def __init__(self, message: str, *, status: int | None = None, payload: object = None) -> None:
        super().__init__(message)
        self.status = status
        self.payload = payload


class PostizAuthError(PostizError):
    """Postiz rejected the API key (HTTP 401)."""

    def __init__(self, *, status: int = 401, payload: object = None) -> None:
        super().__init__(
            "Postiz API key invalid: regenerate it in Postiz → Settings and update it in Borker",
            status=status,
            payload=payload,
        )


class PostizRateLimited(PostizError):
    """Postiz's hourly limit on creating posts was reached (HTTP 429)."""

    def __init__(self, retry_after: int, *, payload: object = None) -> None:
        super().__init__(
            f"Postiz's rate limit for creating posts was reached: retry in {_describe_wait(retry_after)}",
            status=429,
            payload=payload,
        )
        self.retry_after = retry_after


class PostizValidationError(PostizError):
    """Postiz rejected the request body (HTTP 400).

    ``provider`` and ``channel`` are set when Postiz names the channel whose rules
    the post breaks, for example ``"x"`` and ``"Acme on X"``.
    """

    def __init__(
        self,
        message: str,
        *,
        payload: object = None,
        provider: str | None = None,
        channel: str | None = None,
    ) -> None:
        super().__init__(message, status=400, payload=payload)
        self.provider = provider
        self.channel = channel


class PostizPlanLimit(PostizError):
    """The Postiz Cloud plan allows no more posts (HTTP 402)."""


class PostizNotFound(PostizError):
    """Postiz has no route at the called URL (HTTP 404), which usually means a wrong base URL."""


class PostizTimeout(PostizError):
    """Postiz did not respond within the client timeout."""


class PostizUnavailable(PostizError):
    """Postiz could not be reached or failed with a 5xx status."""


class NoConnectedChannel(PostizError):
    """Postiz has no enabled channel for a platform."""

    def __init__(self, platform: Platform, *, disabled_channel: str | None = None) -> None:
        if disabled_channel is None:
            message = f"No {platform.label} account connected in Postiz: connect it in Postiz → Channels"
        else:
            message = (
                f'The {platform.label} channel "{disabled_channel}" is disabled in Postiz: '
                "enable or reconnect it in Postiz → Channels"
            )
        super().__init__(message)
        self.platform = platform
        self.disabled_channel = disabled_channel


@dataclass(frozen=True)
class Integration:
    """A Postiz channel: one connected account or page on one network."""

    id: str
    name: str
    identifier: str
    disabled: bool
    profile: str | None

    @property
    def platform(self) -> Platform | None:
        """Borker platform of this channel, or None for networks Borker does not post to."""
        return _PLATFORMS_BY_IDENTIFIER.get(self.identifier)


@dataclass(frozen=True)
class PostizPost:
    """A root post as ``GET /posts`` lists it. Thread replies are not listed."""

    id: str
    content: str
    publish_date: datetime
    state: str
    release_url: str | None
    release_id: str | None
    group: str | None
    integration_id: str
    provider: str


@dataclass(frozen=True)
class NewPost:
    """One channel's post for ``create_post``.

    ``parts[0]`` is the main post and ``parts[1:]`` become thread replies.
    ``post_id`` is sent as ``value[0].id``, and Postiz upserts by it. Postiz
    updates the row in place only when it assigned that id itself. For an id it
    does not know, Postiz creates a new row with a fresh id, so a Borker-made id
    does not stop a retried create from adding a second post.
    """

    integration_id: str
    platform: Platform
    parts: list[str]
    post_id: str | None = None


@dataclass(frozen=True)
class CreatedPost:
    """Root post id that Postiz assigned to one channel's post."""

    post_id: str
    integration_id: str


@dataclass(frozen=True)
class RateLimitState:
    """The ``X-RateLimit-*`` headers of the last successful create.

    ``reset_seconds`` counts the seconds until the window ends. It is not a timestamp.
    """

    limit: int | None
    remaining: int | None
    reset_seconds: int | None


class PostizClient:
    """Synchronous client for one Postiz organization.

    ``base_url`` is the whole API base including ``/public/v1``, for example
    ``https://api.postiz.com/public/v1`` or ``https://postiz.example.com/api/public/v1``.
    """

    def __init__(
        self,
        *,
        base_url: str,
        api_key: str,
        timeout: float = 15.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.rate_limit: RateLimitState | None = None
        # The key lives only in the client's default headers. httpx masks the
        # Authorization header in its reprs.
        self._http = httpx.Client(
            base_url=self.base_url,
            headers={"Authorization": api_key, "Accept": "application/json"},
            timeout=httpx.Timeout(timeout),
            transport=transport,
        )

    def __repr__(self) -> str:
        return f"PostizClient(base_url={self.base_url!r})"

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> PostizClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def is_connected(self) -> bool:
        """Check the API key with ``GET /is-connected``.

        Raises PostizAuthError when Postiz rejects the key, and the other
        PostizError types when Postiz cannot be reached.
        """
        payload = self._call("GET", "/is-connected")
        return isinstance(payload, dict) and payload.get("connected") is True

    def list_integrations(self) -> list[Integration]:
        """List the organization's channels, disabled ones included, in Postiz's order."""
        payload = self._call("GET", "/integrations")
        if not isinstance(payload, list):
            raise _unexpected_response("GET", "/integrations", payload)

        integrations = []
        for item in payload:
            if isinstance(item, dict) and isinstance(item.get("id"), str):
                integrations.append(_parse_integration(item))
        return integrations

    def create_post(
        self,
        *,
        posts: list[NewPost],
        date: datetime,
        post_type: str = "schedule",
    ) -> list[CreatedPost]:
        """Create one post per channel in a single ``POST /posts`` and return their root ids.

        ``date`` must be timezone-aware. One request costs one rate-limit hit however
        many channels it carries, and the ``X-RateLimit-*`` headers of a successful
        create are stored in ``self.rate_limit``. A create is never retried here.
        """
        if not posts:
            raise ValueError("posts is empty: pass at least one NewPost")
        for post in posts:
            if not post.parts:
                raise ValueError(f"NewPost for integration {post.integration_id} has no parts: pass the post text")

        body = {
            "type": post_type,
            "date": format_postiz_date(date),
            "shortLink": False,
            "tags": [],
            "posts": [_post_body(post) for post in posts],
        }
        response = self._request("POST", "/posts", json_body=body)
        payload = self._check(response)
        self.rate_limit = _read_rate_limit(response.headers)

        if not isinstance(payload, list):
            raise _unexpected_response("POST", "/posts", payload)
        created = []
        for item in payload:
            if not isinstance(item, dict) or not isinstance(item.get("postId"), str):
                raise _unexpected_response("POST", "/posts", payload)
            created.append(CreatedPost(post_id=item["postId"], integration_id=str(item.get("integration", ""))))
        return created

    def delete_post(self, *, post_id: str, published_around: datetime | None = None) -> None:
        """Delete the post's whole thread on its channel.

        Postiz returns 200 ``{"error": true}`` for a successful delete. It returns
        500 both for an unknown or already-deleted id and for a real failure. With
        ``published_around``, a 500 is followed by a look-up of the posts two days
        either side, and an id that is no longer listed counts as already deleted.
        Without it, a 500 raises PostizUnavailable.
        """
        path = f"/posts/{quote(post_id, safe='')}"
        response = self._request("DELETE", path)
        if response.status_code != 500:
            self._check(response)
            return

        payload = _decode(response)
        if published_around is not None:
            listed = self.list_posts(
                start=published_around - _DELETE_CHECK_MARGIN,
                end=published_around + _DELETE_CHECK_MARGIN,
            )
            if all(post.id != post_id for post in listed):
                logger.info("Postiz post %s was already deleted or never existed", post_id)
                return
            raise PostizUnavailable(
                f"Postiz failed to delete post {post_id} (HTTP 500 at {response.request.url}) "
                "and still lists it: try again later or delete it in Postiz → Calendar",
                status=500,
                payload=payload,
            )
        raise PostizUnavailable(
            f"Postiz failed to delete post {post_id} (HTTP 500 at {response.request.url}): "
            "the id is unknown or already deleted, or Postiz failed. Check the post in Postiz → Calendar",
            status=500,
            payload=payload,
        )

    def delete_group(self, *, group: str) -> None:
        """Delete every post of a group. Postiz returns 200 even for an unknown group."""
        self._call("DELETE", f"/posts/group/{quote(group, safe='')}")

    def set_post_status(self, *, post_id: str, status: Literal["draft", "schedule"]) -> str:
        """Turn a post into a draft or queue it again, and return its new Postiz state."""
        payload = self._call("PUT", f"/posts/{quote(post_id, safe='')}/status", json_body={"status": status})
        if not isinstance(payload, dict) or not isinstance(payload.get("state"), str):
            raise _unexpected_response("PUT", f"/posts/{post_id}/status", payload)
        return payload["state"]

    def list_posts(self, *, start: datetime, end: datetime) -> list[PostizPost]:
        """List the root posts whose publish date lies in ``[start, end]``.

        Postiz sends no pagination and no order. Rows without an id or a readable
        ``publishDate`` are skipped with a warning, and other missing fields get
        empty defaults.
        """
        params = {"startDate": format_postiz_date(start), "endDate": format_postiz_date(end)}
        payload = self._call("GET", "/posts", params=params)
        rows = payload.get("posts") if isinstance(payload, dict) else payload
        if not isinstance(rows, list):
            raise _unexpected_response("GET", "/posts", payload)

        posts = []
        skipped = 0
        for row in rows:
            post = _parse_post(row) if isinstance(row, dict) else None
            if post is None:
                skipped += 1
            else:
                posts.append(post)
        if skipped:
            logger.warning("skipped %d Postiz posts without an id or a valid publishDate", skipped)
        return posts

    def find_slot(self, *, integration_id: str) -> datetime:
        """Return the channel's next free posting slot as a UTC datetime.

        Postiz sends the slot as UTC with no offset (``YYYY-MM-DDTHH:mm:00``).
        """
        path = f"/find-slot/{quote(integration_id, safe='')}"
        payload = self._call("GET", path)
        raw = payload.get("date") if isinstance(payload, dict) else None
        if not isinstance(raw, str):
            raise _unexpected_response("GET", path, payload)
        try:
            return parse_postiz_date(raw)
        except ValueError:
            raise _unexpected_response("GET", path, payload) from None

    def _call(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, str] | None = None,
        json_body: object = None,
    ) -> Any:
        return self._check(self._request(method, path, params=params, json_body=json_body))

    def _request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, str] | None = None,
        json_body: object = None,
    ) -> httpx.Response:
        """Send one request and retry a GET once after a connection error or a 502, 503 or 504.

        Other methods are never retried: a create could be written twice.
        """
        attempts = 2 if method == "GET" else 1
        for attempt in range(1, attempts + 1):
            try:
                response = self._http.request(method, path, params=params, json=json_body)
            except httpx.TimeoutException as exc:
                raise PostizTimeout(
                    f"Postiz did not respond within {self.timeout:g} s at {self.base_url}: "
                    "check POSTIZ_API_URL and that Postiz is running"
                ) from exc
            except httpx.TransportError as exc:
                if attempt < attempts:
                    logger.warning("Postiz %s %s failed (%s), retrying once", method, path, type(exc).__name__)
                    time.sleep(_RETRY_DELAY_SECONDS)
                    continue
                raise PostizUnavailable(
                    f"Could not connect to Postiz at {self.base_url} ({type(exc).__name__}): "
                    "check POSTIZ_API_URL and that Postiz is running"
                ) from exc

            if response.status_code in _RETRYABLE_STATUSES and attempt < attempts:
                delay = _retry_delay(response)
                if delay is not None:
                    logger.warning(
                        "Postiz %s %s returned HTTP %d, retrying once in %.1f s",
                        method,
                        path,
                        response.status_code,
                        delay,
                    )
                    response.close()
                    time.sleep(delay)
                    continue
            return response
        raise AssertionError("unreachable: the last attempt returns or raises")

    def _check(self, response: httpx.Response) -> Any:
        """Return the decoded body of a 2xx response and raise the matching PostizError otherwise."""
        payload = _decode(response)
        status = response.status_code
        if 200 <= status < 300:
            return payload

        request = response.request
        url = str(request.url)
        if status == 401:
            raise PostizAuthError(payload=payload)
        if status == 429:
            raise PostizRateLimited(_parse_retry_after(response.headers.get("Retry-After")), payload=payload)
        if status == 400:
            raise _validation_error(request.method, request.url.path, self.base_url, payload)
        if status == 402:
            raise _plan_limit_error(payload)
        if status == 404:
            raise PostizNotFound(
                f"Postiz has no API route at {request.method} {url} (HTTP 404): check POSTIZ_API_URL. "
                "Self-hosted Postiz usually serves the API under https://<host>/api/public/v1",
                status=status,
                payload=payload,
            )
        if status >= 500:
            raise PostizUnavailable(
                f"Postiz failed with HTTP {status} at {request.method} {url}: "
                "check that Postiz is running and try again later",
                status=status,
                payload=payload,
            )
        raise PostizError(
            f"Postiz rejected {request.method} {url} with HTTP {status}: {_postiz_message(payload)}",
            status=status,
            payload=payload,
        )


def find_integration(integrations: Iterable[Integration], platform: Platform) -> Integration:
    """Return the first enabled channel for ``platform``, ordered by name and then id.

    Raises NoConnectedChannel when there is none. Its message names a disabled
    channel of that platform when one exists.
    """
    candidates = sorted(
        (integration for integration in integrations if integration.platform is platform),
        key=lambda integration: (integration.name, integration.id),
    )
    for integration in candidates:
        if not integration.disabled:
            return integration
    disabled_channel = candidates[0].name if candidates else None
    raise NoConnectedChannel(platform, disabled_channel=disabled_channel)


def preview_url(frontend_url: str, post_id: str) -> str:
    """Return the public preview page of a post, which needs no Postiz login."""
    return f"{frontend_url.rstrip('/')}/p/{quote(post_id, safe='')}?share=true"


def format_postiz_date(value: datetime) -> str:
    """Format a timezone-aware datetime as Postiz expects: UTC, milliseconds and ``Z``.

    Raises ValueError for a naive datetime, because Postiz would read it as UTC.
    """
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"datetime {value.isoformat()} has no time zone: pass a timezone-aware datetime")
    utc = value.astimezone(timezone.utc)
    return f"{utc:%Y-%m-%dT%H:%M:%S}.{utc.microsecond // 1000:03d}Z"


def parse_postiz_date(value: str) -> datetime:
    """Parse a Postiz timestamp as a UTC datetime. A value without an offset is UTC."""
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=timezone.utc)
    return parsed.astimezone(timezone.utc)


def _post_body(post: NewPost) -> dict[str, Any]:
    values: list[dict[str, Any]] = [{"content": part, "image": []} for part in post.parts]
    if post.post_id is not None:
        values[0]["id"] = post.post_id
    return {
        "integration": {"id": post.integration_id},
        "value": values,
        "settings": dict(_PROVIDER_SETTINGS[post.platform]),
    }


def _parse_integration(item: dict[str, Any]) -> Integration:
    profile = item.get("profile")
    return Integration(
        id=item["id"],
        name=str(item.get("name") or ""),
        identifier=str(item.get("identifier") or ""),
        disabled=bool(item.get("disabled", False)),
        profile=profile if isinstance(profile, str) and profile else None,
    )


def _parse_post(row: dict[str, Any]) -> PostizPost | None:
    post_id = row.get("id")
    raw_date = row.get("publishDate")
    if not isinstance(post_id, str) or not isinstance(raw_date, str):
        return None
    try:
        publish_date = parse_postiz_date(raw_date)
    except ValueError:
        return None

    integration = row.get("integration")
    if not isinstance(integration, dict):
        integration = {}
    return PostizPost(
        id=post_id,
        content=str(row.get("content") or ""),
        publish_date=publish_date,
        state=str(row.get("state") or ""),
        release_url=_optional_str(row.get("releaseURL")),
        release_id=_optional_str(row.get("releaseId")),
        group=_optional_str(row.get("group")),
        integration_id=str(integration.get("id") or ""),
        provider=str(integration.get("providerIdentifier") or ""),
    )


def _optional_str(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _decode(response: httpx.Response) -> object:
    """Return the JSON body, the text of a non-JSON body, or None for an empty one."""
    if not response.content:
        return None
    try:
        return response.json()
    except ValueError:
        return response.text


def _postiz_message(payload: object) -> str:
    """Extract Postiz's own error text from the E1 (``msg``) and E2 to E8 (``message``) shapes."""
    if isinstance(payload, dict):
        message = payload.get("message", payload.get("msg"))
        if isinstance(message, list):
            return "; ".join(str(part) for part in message)
        if message is not None:
            return str(message)
    if payload is None:
        return "empty response"
    return str(payload)[:300]


def _validation_error(method: str, path: str, base_url: str, payload: object) -> PostizValidationError:
    message = _postiz_message(payload)
    provider = payload.get("provider") if isinstance(payload, dict) else None
    channel = payload.get("name") if isinstance(payload, dict) else None

    # Postiz's per-channel rules (length, media) name the channel that broke them.
    if isinstance(provider, str) and isinstance(channel, str):
        platform = _PLATFORMS_BY_IDENTIFIER.get(provider)
        network = platform.label if platform is not None else provider
        return PostizValidationError(
            f'Postiz rejected the post for {network} channel "{channel}": {message}',
            payload=payload,
            provider=provider,
            channel=channel,
        )
    if method == "POST" and path.endswith("/posts"):
        return PostizValidationError(f"Postiz rejected the post: {message}", payload=payload)
    relative_path = path.removeprefix(httpx.URL(base_url).path.rstrip("/"))
    return PostizValidationError(f"Postiz rejected {method} {relative_path}: {message}", payload=payload)


def _plan_limit_error(payload: object) -> PostizPlanLimit:
    message = _postiz_message(payload)
    billing_url = payload.get("url") if isinstance(payload, dict) else None
    text = f"Postiz plan limit reached: {message}"
    if isinstance(billing_url, str) and billing_url:
        text += f" Upgrade the plan at {billing_url}"
    return PostizPlanLimit(text, status=402, payload=payload)


def _unexpected_response(method: str, path: str, payload: object) -> PostizError:
    excerpt = str(payload)[:200]
    return PostizError(
        f"Postiz returned an unexpected body for {method} {path} ({excerpt}): "
        "check that POSTIZ_API_URL points at the Postiz public API"
    )


def _read_rate_limit(headers: httpx.Headers) -> RateLimitState:
    return RateLimitState(
        limit=_header_int(headers, "X-RateLimit-Limit"),
        remaining=_header_int(headers, "X-RateLimit-Remaining"),
        reset_seconds=_header_int(headers, "X-RateLimit-Reset"),
    )


def _header_int(headers: httpx.Headers, name: str) -> int | None:
    try:
        return int(headers[name])
    except (KeyError, ValueError):
        return None


def _parse_retry_after(value: str | None) -> int:
    """Return the wait in seconds from a Retry-After header, either seconds or an HTTP date."""
    if value is None:
        return DEFAULT_RETRY_AFTER_SECONDS
    value = value.strip()
    if value.isdigit():
        return int(value)
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return DEFAULT_RETRY_AFTER_SECONDS
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return max(0, math.ceil((moment - datetime.now(timezone.utc)).total_seconds()))


def _retry_delay(response: httpx.Response) -> float | None:
    """Return the wait before retrying a 502/503/504, or None when Retry-After requests too long a wait."""
    header = response.headers.get("Retry-After")
    if header is None:
        return _RETRY_DELAY_SECONDS
    seconds = _parse_retry_after(header)
    if seconds > _MAX_RETRY_DELAY_SECONDS:
        return None
    return float(seconds)


def _describe_wait(seconds: int) -> str:
    if seconds == 1:
        return "1 second"
    if seconds < 120:
        return f"{seconds} seconds"
    return f"{math.ceil(seconds / 60)} minutes"
