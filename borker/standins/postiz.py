"""A stand-in for the Postiz public API, served on 127.0.0.1 under ``/public/v1``.

It follows gitroomhq/postiz-app at 74b01ada (main, 90 commits after v2.23.0) for
the routes Borker calls. That covers the auth middleware, the hourly throttle on
``POST /posts``, request validation in Postiz's order and with its messages,
upsert by ``value[i].id`` and soft deletes by group. It also keeps the quirks
that callers must survive, such as ``{"error": true}`` on a successful delete,
500 for an unknown id and 404 for ``GET /posts/:id``. The test helpers
``publish`` and ``fail`` simulate publishing and send the outgoing webhook.

The state is one organization, kept in memory behind a lock.
"""

from __future__ import annotations

import copy
import html
import json
import logging
import math
import re
import secrets
import string
import sys
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from html.parser import HTMLParser
from typing import Any, Callable, Generic, NamedTuple, TypeVar
from urllib.parse import parse_qs, unquote, urlsplit

import httpx
import twitter_text

from borker.standins.http import JsonHandler, LoopbackServer

logger = logging.getLogger(__name__)

T = TypeVar("T")

API_PREFIX = "/public/v1"
THROTTLE_WINDOW_SECONDS = 3600

WHO_CAN_REPLY_VALUES = ("everyone", "following", "mentionedUsers", "subscribers", "verified")
MEDIA_EXTENSIONS = (".png", ".jpg", ".jpeg", ".gif", ".webp", ".mp4")
# Posting slots in minutes after UTC midnight (02:00, 06:40, 11:40), Postiz's default per channel.
DEFAULT_POSTING_TIMES = (120, 400, 700)

_E6_BODY = {"statusCode": 429, "message": "ThrottlerException: Too Many Requests"}
_E7_BODY = {"statusCode": 500, "message": "Internal server error"}

# Tags and attributes that Postiz's DOMPurify configuration keeps in post content.
_ALLOWED_TAGS = frozenset({"p", "br", "strong", "u", "a", "ul", "li", "h1", "h2", "h3", "span"})
_ALLOWED_ATTRIBUTES = frozenset({"href", "target", "rel", "class", "data-mention-id", "data-mention-label"})
_ALLOWED_URI = re.compile(r"^(?:https?:|mailto:|/|#)", re.IGNORECASE)
_VOID_TAGS = frozenset({"br"})
_DROPPED_WITH_CONTENT = frozenset({"script", "style", "template", "iframe", "noscript", "textarea", "title"})

_BASE36 = string.ascii_lowercase + string.digits


def _default_integrations() -> list[dict[str, Any]]:
    return [
        {"name": "Acme on X", "identifier": "x", "profile": "acme"},
        {"name": "Acme on LinkedIn", "identifier": "linkedin-page", "profile": "acme"},
        {"name": "Acme on Farcaster", "identifier": "wrapcast", "profile": "acme"},
    ]


def new_cuid() -> str:
    """Return a random id shaped like Prisma's ``cuid()``: ``c`` and 24 base-36 characters."""
    return "c" + "".join(secrets.choice(_BASE36) for _ in range(24))


class RecordedRequest(NamedTuple):
    """A request the stand-in received. The Authorization header is never recorded."""

    method: str
    path: str
    body: object


class _Reply(NamedTuple):
    status: int
    payload: object
    headers: dict[str, str] | None = None


class _PendingFault(Generic[T]):
    """A one-shot fault that fires on the request after ``skip`` unaffected ones."""

    def __init__(self, skip: int, value: T) -> None:
        self.skip = skip
        self.value = value
        self.used = False

    def take(self) -> T | None:
        """Return the value for the current request, or None while requests are still skipped."""
        if self.skip > 0:
            self.skip -= 1
            return None
        self.used = True
        return self.value


def _fire(pending: _PendingFault[T] | None) -> tuple[T | None, _PendingFault[T] | None]:
    """Return the value due for the current request and the fault that stays pending."""
    if pending is None:
        return None, None
    value = pending.take()
    return value, None if pending.used else pending


@dataclass
class _Channel:
    id: str
    name: str
    identifier: str
    picture: str | None
    disabled: bool
    profile: str | None
    customer: dict[str, str] | None
    posting_times: list[int]
    # An X channel with X Premium ("Verified" in Postiz) may post 4000 characters.
    verified: bool

    def to_json(self) -> dict[str, Any]:
        """Return the channel as ``GET /integrations`` shows it. A missing customer is omitted."""
        data: dict[str, Any] = {
            "id": self.id,
            "name": self.name,
            "identifier": self.identifier,
            "picture": self.picture,
            "disabled": self.disabled,
            "profile": self.profile,
        }
        if self.customer is not None:
            data["customer"] = dict(self.customer)
        return data


@dataclass
class _PostRow:
    id: str
    group: str
    integration_id: str
    parent_id: str | None
    content: str
    publish_date: datetime
    state: str
    settings: str
    image: str
    delay: int
    interval_in_days: int | None
    creation_method: str
    release_url: str | None = None
    release_id: str | None = None
    deleted_at: datetime | None = None


@dataclass
class _Throttle:
    """Postiz's throttle on ``POST /posts``: a fixed window from the first hit, per organization.

    The hit that goes over the limit blocks the organization for a whole window,
    as ``@nestjs/throttler`` v6 does when no block duration is configured.
    """

    limit: int
    clock: Callable[[], float]
    hits: int = 0
    window_end: float | None = None
    blocked_until: float | None = None

    def hit(self) -> _Reply | dict[str, str]:
        """Count one request and return the 429 reply when blocked, else the rate-limit headers."""
        now = self.clock()
        if self.blocked_until is not None and now >= self.blocked_until:
            self.blocked_until = None
            self.window_end = None
        if self.window_end is None or now >= self.window_end:
            self.hits = 0
            self.window_end = now + THROTTLE_WINDOW_SECONDS
        self.hits += 1
        if self.blocked_until is None and self.hits > self.limit:
            self.blocked_until = now + THROTTLE_WINDOW_SECONDS

        if self.blocked_until is not None:
            retry_after = _whole_seconds(self.blocked_until - now)
            return _Reply(429, _E6_BODY, {"Retry-After": str(retry_after)})
        return {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(max(0, self.limit - self.hits)),
            "X-RateLimit-Reset": str(_whole_seconds(self.window_end - now)),
        }

    def reset(self) -> None:
        self.hits = 0
        self.window_end = None
        self.blocked_until = None


def _whole_seconds(seconds: float) -> int:
    """Round a remaining time up to whole seconds, as the throttler does with milliseconds."""
    return max(0, math.ceil(round(seconds, 3)))


class _PostizHandler(JsonHandler):
    server: PostizStandin
    # Headers and body go out in separate writes, so Nagle's algorithm would
    # hold the body back for a delayed ACK (about 40 ms per request).
    disable_nagle_algorithm = True

    def do_GET(self) -> None:  # noqa: N802 - stdlib naming
        if self.path_only.startswith("/p/"):
            self.server.serve_preview(self)
            return
        self.server.handle_request_from(self)

    def do_POST(self) -> None:  # noqa: N802
        self.server.handle_request_from(self)

    def do_PUT(self) -> None:  # noqa: N802
        self.server.handle_request_from(self)

    def do_DELETE(self) -> None:  # noqa: N802
        self.server.handle_request_from(self)

    def do_PATCH(self) -> None:  # noqa: N802
        self.server.handle_request_from(self)


class PostizStandin(LoopbackServer):
    """Postiz public API for one organization, on a free port of 127.0.0.1.

    ``integrations`` takes dicts shaped like ``GET /integrations`` items. ``id``,
    ``picture``, ``disabled``, ``profile`` and ``customer`` may be left out, and two
    stand-in keys are read as well: ``postingTimes`` (minutes after UTC midnight)
    and ``verified`` (an X channel with the 4000-character limit).
    ``publish_date_offset`` shifts every stored publish date, as some self-hosted
    images do when ``TZ=UTC`` resolves to a non-zero offset.
    """

    def __init__(
        self,
        *,
        api_key: str = "demo-postiz-key",
        rate_limit: int = 30,
        frontend_url: str = "http://127.0.0.1/postiz",
        integrations: list[dict[str, Any]] | None = None,
        webhook_urls: list[str] | None = None,
        empty_webhook_body: bool = False,
        strip_x_links: bool = False,
        publish_date_offset: timedelta = timedelta(0),
        clock: Callable[[], float] = time.monotonic,
        port: int = 0,
    ) -> None:
        super().__init__(_PostizHandler, port)
        self.api_key = api_key
        self.frontend_url = frontend_url.rstrip("/")
        self.webhook_urls = list(webhook_urls or [])
        self.empty_webhook_body = empty_webhook_body
        self.strip_x_links = strip_x_links
        self.publish_date_offset = publish_date_offset

        self._lock = threading.RLock()
        self._channels = [_channel_from_config(item) for item in (integrations or _default_integrations())]
        self._rows: dict[str, _PostRow] = {}
        self._throttle = _Throttle(limit=rate_limit, clock=clock)
        self._requests: list[RecordedRequest] = []
        self._create_count = 0
        self._pending_fault: _PendingFault[_Reply] | None = None
        self._pending_delay: _PendingFault[float] | None = None

    @property
    def base_url(self) -> str:
        return self.url + API_PREFIX

    # Test helpers. They change state directly and send no HTTP request to the stand-in.

    @property
    def integrations(self) -> list[dict[str, Any]]:
        """Channels as ``GET /integrations`` returns them."""
        with self._lock:
            return [channel.to_json() for channel in self._channels]

    @integrations.setter
    def integrations(self, items: list[dict[str, Any]]) -> None:
        """Replace the channels, taking the same dicts as the constructor."""
        with self._lock:
            self._channels = [_channel_from_config(item) for item in items]

    @property
    def posts(self) -> dict[str, dict[str, Any]]:
        """Snapshot of the live root posts by id, the rows that ``GET /posts`` can list."""
        with self._lock:
            return {
                row.id: self._row_snapshot(row)
                for row in self._rows.values()
                if row.parent_id is None and row.deleted_at is None
            }

    @property
    def rows(self) -> list[dict[str, Any]]:
        """Snapshot of every stored row in insertion order, thread replies and soft-deleted rows included."""
        with self._lock:
            return [self._row_snapshot(row) for row in self._rows.values()]

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._requests)

    @property
    def create_count(self) -> int:
        """Number of ``POST /posts`` requests that returned 201."""
        with self._lock:
            return self._create_count

    def fail_next(
        self, status: int, body: object, headers: dict[str, str] | None = None, *, after: int = 0
    ) -> None:
        """Respond with this status, JSON body and headers to one request, whatever its route.

        ``after`` is the number of requests handled normally first, so ``after=1``
        fails the second request from now.
        """
        with self._lock:
            self._pending_fault = _PendingFault(after, _Reply(status, body, dict(headers or {})))

    def delay_next(self, seconds: float, *, after: int = 0) -> None:
        """Make one request wait this many seconds before it is handled, after ``after`` normal ones."""
        with self._lock:
            self._pending_delay = _PendingFault(after, seconds)

    def preview_url(self, post_id: str) -> str:
        """Return the public preview link that Postiz's frontend serves for a post."""
        return f"{self.frontend_url}/p/{post_id}?share=true"

    def reset_rate_limit(self) -> None:
        with self._lock:
            self._throttle.reset()

    def set_integration_disabled(self, integration_id: str, disabled: bool = True) -> None:
        with self._lock:
            self._channel(integration_id).disabled = disabled

    def publish(self, post_id: str, release_url: str | None = None) -> dict[str, Any]:
        """Mark a queued post and its thread replies PUBLISHED and send the webhook.

        Every URL in ``webhook_urls`` gets one POST with the published root post,
        or ``[]`` when ``empty_webhook_body`` reproduces the bug of Postiz v2.12.0
        through v2.23.0. As in Postiz, delivery failures are ignored and never
        retried. Returns the published root post as the webhook describes it.
        Raises KeyError for an unknown or deleted id and ValueError unless the post
        is QUEUE.
        """
        with self._lock:
            root = self._live_root(post_id)
            if root.state != "QUEUE":
                raise ValueError(f"post {post_id} is {root.state}: only a QUEUE post can be published")
            channel = self._channel(root.integration_id)
            thread = [row for row in self._rows.values() if row.group == root.group and row.deleted_at is None]
            for row in thread:
                release_id, url = _release_for(channel)
                if row is root and release_url is not None:
                    url = release_url
                    release_id = release_url.rstrip("/").rsplit("/", 1)[-1]
                row.state = "PUBLISHED"
                row.release_id = release_id
                row.release_url = url
            published = self._webhook_item(root, channel)
            urls = list(self.webhook_urls)
            body: list[dict[str, Any]] = [] if self.empty_webhook_body else [published]

        for url in urls:
            _deliver_webhook(url, body)
        return published

    def fail(self, post_id: str) -> None:
        """Mark a queued post ERROR, as a failed publish does. Postiz sends no webhook for it."""
        with self._lock:
            root = self._live_root(post_id)
            if root.state != "QUEUE":
                raise ValueError(f"post {post_id} is {root.state}: only a QUEUE post can fail")
            root.state = "ERROR"

    # HTTP handling.

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that gave up on a delayed response has closed its socket, which
        # is expected under test. Anything else still gets the standard traceback.
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)

    def serve_preview(self, handler: JsonHandler) -> None:
        """Serve the public preview page at ``/p/<postId>``, a small stand-in for Postiz's frontend page."""
        post_id = handler.path_only.removeprefix("/p/")
        post = self.posts.get(post_id)
        if post is None:
            body, status = "<h1>Post not found</h1>", 404
        else:
            body = (
                f"<h1>{html.escape(str(post.get('integration', {}).get('name', 'Post')))}</h1>"
                f"<p>{html.escape(str(post.get('state')))} · {html.escape(str(post.get('publishDate')))}</p>"
                f"<pre>{html.escape(str(post.get('content')))}</pre>"
            )
            status = 200
        raw = f"<!doctype html><title>Postiz preview</title>{body}".encode()
        handler.send_response(status)
        handler.send_header("Content-Type", "text/html; charset=utf-8")
        handler.send_header("Content-Length", str(len(raw)))
        handler.end_headers()
        handler.wfile.write(raw)

    def handle_request_from(self, handler: JsonHandler) -> None:
        """Read, record and respond to one request in Postiz's order: routing, auth, throttle, route."""
        method = handler.command
        raw_body = handler.read_body()
        content_type = handler.headers.get("Content-Type")
        body, body_error = _parse_json_body(content_type, raw_body)
        recorded: object = None
        if raw_body:
            is_json = body_error is None and "json" in (content_type or "").lower()
            recorded = body if is_json else raw_body.decode("utf-8", errors="replace")

        with self._lock:
            self._requests.append(RecordedRequest(method, handler.path, recorded))
            delay, self._pending_delay = _fire(self._pending_delay)
            fault, self._pending_fault = _fire(self._pending_fault)
        if delay:
            time.sleep(delay)

        if fault is not None:
            reply = fault
        elif body_error is not None:
            # Express's JSON parser runs before routing and authentication.
            reply = _bad_request(body_error)
        else:
            reply = self._answer(method, handler.path, body, handler.headers.get("Authorization"))
        handler.send_json(reply.status, reply.payload, reply.headers)

    def _answer(self, method: str, target: str, body: object, authorization: str | None) -> _Reply:
        split = urlsplit(target)
        route = _match_route(method, split.path)
        if route is None:
            # Nest returns 404 for unknown routes before the auth middleware, which covers only real routes.
            return _Reply(404, {"message": f"Cannot {method} {target}", "error": "Not Found", "statusCode": 404})
        name, params = route

        auth_failure = self._check_auth(authorization)
        if auth_failure is not None:
            return auth_failure

        query = {key: values[0] for key, values in parse_qs(split.query, keep_blank_values=True).items()}
        with self._lock:
            try:
                if name == "create_posts":
                    throttled = self._throttle.hit()
                    if isinstance(throttled, _Reply):
                        return throttled
                    reply = self._create_posts(body)
                    # The throttler sets its headers before the route runs, so
                    # rejected creates carry them as well.
                    return reply._replace(headers={**throttled, **(reply.headers or {})})
                handler = getattr(self, f"_route_{name}")
                return handler(params=params, query=query, body=body)
            except Exception:  # noqa: BLE001 - Postiz turns any unhandled error into E7
                logger.exception("Postiz stand-in failed on %s %s, responding with 500", method, target)
                return _Reply(500, _E7_BODY)

    def _check_auth(self, authorization: str | None) -> _Reply | None:
        if not authorization:
            return _Reply(401, {"msg": "No API Key found"})
        if authorization.startswith("pos_"):
            return _Reply(401, {"msg": "Invalid OAuth token"})
        if not secrets.compare_digest(authorization.encode(), self.api_key.encode()):
            return _Reply(401, {"msg": "Invalid API key"})
        return None

    def _route_is_connected(self, **_: Any) -> _Reply:
        return _Reply(200, {"connected": True})

    def _route_list_integrations(self, *, query: dict[str, str], **_: Any) -> _Reply:
        customer = query.get("group")
        channels = [
            channel.to_json()
            for channel in self._channels
            if not customer or (channel.customer or {}).get("id") == customer
        ]
        return _Reply(200, channels)

    def _route_find_slot(self, *, params: dict[str, str], **_: Any) -> _Reply:
        channel = self._find_channel(params["integration_id"])
        if channel is None or channel.disabled or not channel.posting_times:
            # NOTE: Postiz searches day after day without end here, so the real
            # request hangs or fails with 500. The stand-in fails at once.
            return _Reply(500, _E7_BODY)

        now = datetime.now(timezone.utc)
        day = now.replace(hour=0, minute=0, second=0, microsecond=0)
        occupied = {row.publish_date for row in self._rows.values() if row.deleted_at is None}
        for _ in range(3660):
            free = [
                minutes
                for minutes in sorted(set(channel.posting_times))
                if day + timedelta(minutes=minutes) > now and day + timedelta(minutes=minutes) not in occupied
            ]
            if free:
                slot = day + timedelta(minutes=free[0])
                return _Reply(200, {"date": f"{slot:%Y-%m-%dT%H:%M}:00"})
            day += timedelta(days=1)
        return _Reply(500, _E7_BODY)

    def _route_list_posts(self, *, query: dict[str, str], **_: Any) -> _Reply:
        start = _parse_iso8601(query.get("startDate"))
        end = _parse_iso8601(query.get("endDate"))
        errors = []
        if start is None:
            errors.append("startDate must be a valid ISO 8601 date string")
        if end is None:
            errors.append("endDate must be a valid ISO 8601 date string")
        if start is None or end is None:
            return _bad_request(errors)

        customer = query.get("customer")
        listed: list[dict[str, Any]] = []
        for row in self._rows.values():
            if row.parent_id is not None or row.deleted_at is not None:
                continue
            channel = self._channel(row.integration_id)
            if customer and (channel.customer or {}).get("id") != customer:
                continue
            if row.interval_in_days:
                listed.extend(self._recurring_occurrences(row, channel, end))
            elif start <= row.publish_date <= end:
                listed.append(self._list_item(row, channel))
        return _Reply(200, {"posts": listed})

    def _route_delete_post(self, *, params: dict[str, str], **_: Any) -> _Reply:
        row = self._rows.get(params["post_id"])
        if row is None or row.deleted_at is not None:
            # Postiz reads the first row of an empty result and throws, so this is a 500, not a 404.
            return _Reply(500, _E7_BODY)
        self._delete_group(row.group)
        return _Reply(200, {"error": True})

    def _route_delete_group(self, *, params: dict[str, str], **_: Any) -> _Reply:
        self._delete_group(params["group"])
        return _Reply(200, {"error": True})

    def _route_change_status(self, *, params: dict[str, str], body: object, **_: Any) -> _Reply:
        status = body.get("status") if isinstance(body, dict) else None
        if status not in ("draft", "schedule"):
            return _bad_request(["status must be one of the following values: draft, schedule"])
        # Postiz looks the post up without a deletedAt filter, so deleted rows change too.
        row = self._rows.get(params["post_id"])
        if row is None:
            return _bad_request("Post not found")
        row.state = "DRAFT" if status == "draft" else "QUEUE"
        return _Reply(200, {"id": row.id, "state": row.state})

    def _create_posts(self, raw_body: object) -> _Reply:
        """Validate and store ``POST /posts`` as Postiz's controller, service and repository do."""
        body = copy.deepcopy(raw_body) if isinstance(raw_body, dict) else {}
        posts = body.get("posts")

        # Postiz checks the integration ids before any other validation.
        if posts is None or (isinstance(posts, list) and not all(_has_integration_id(post) for post in posts)):
            return _bad_request("All posts must have an integration id")
        if not isinstance(posts, list):
            return _Reply(500, _E7_BODY)
        channels = []
        for post in posts:
            channel = self._find_channel(str(post["integration"]["id"]))
            if channel is None:
                return _bad_request(f"Integration with id {_js_string(post['integration']['id'])} not found")
            channels.append(channel)
            # Postiz replaces any __type the client sent with the channel's provider.
            settings = post.get("settings")
            post["settings"] = {**(settings if isinstance(settings, dict) else {}), "__type": channel.identifier}

        _sanitize_contents(posts)
        errors = _create_body_errors(body)
        if errors:
            return _bad_request(errors)

        rule_error = _channel_rule_error(body, posts, channels)
        if rule_error is not None:
            return rule_error

        created = []
        for post, channel in zip(posts, channels):
            republish_error = self._republish_error(body, post)
            if republish_error is not None:
                return republish_error
            root = self._store_channel_post(body, post, channel)
            created.append({"postId": root.id, "integration": channel.id})
        self._create_count += 1
        return _Reply(201, created)

    def _republish_error(self, body: dict[str, Any], post: dict[str, Any]) -> _Reply | None:
        """Reject a schedule or now save whose ``value[0].id`` is already published, unless ``republish``."""
        if body.get("type") not in ("schedule", "now") or body.get("republish") is True:
            return None
        first_id = post["value"][0].get("id")
        existing = self._rows.get(first_id) if first_id else None
        if existing is None or existing.state != "PUBLISHED":
            return None
        channel = self._channel(existing.integration_id)
        message = (
            f"This post was already published on {existing.publish_date:%Y-%m-%d %H:%M} UTC. "
            f"Saving it this way would publish it again to {channel.identifier}. "
            "To edit without republishing, use type 'update'. To intentionally publish again, pass republish: true."
        )
        return _bad_request(message)

    def _store_channel_post(self, body: dict[str, Any], post: dict[str, Any], channel: _Channel) -> _PostRow:
        """Write one channel's rows under a fresh group and return the root row.

        A ``value[i].id`` of a stored row updates that row in place, deleted or not.
        Any other id is ignored and the row gets a fresh cuid, as Prisma's upsert
        creates the row without the id it searched for.
        """
        post_type = body.get("type")
        if post_type == "now":
            publish_date = datetime.now(timezone.utc).replace(second=0, microsecond=0)
        else:
            publish_date = _parse_iso8601(body["date"])
            assert publish_date is not None, "the date was validated before"
        publish_date = _truncate_to_milliseconds(publish_date + self.publish_date_offset)
        interval = body.get("inter")
        group = str(uuid.uuid4())
        settings = json.dumps(post["settings"], separators=(",", ":"), ensure_ascii=False)

        rows: list[_PostRow] = []
        for value in post["value"]:
            content = value["content"]
            if self.strip_x_links and channel.identifier == "x":
                content = _strip_links(content)
            existing = self._rows.get(value.get("id") or "")
            row = existing or _PostRow(
                id=new_cuid(),
                group=group,
                integration_id=channel.id,
                parent_id=None,
                content=content,
                publish_date=publish_date,
                state="QUEUE",
                settings=settings,
                image="[]",
                delay=0,
                interval_in_days=None,
                creation_method=body.get("creationMethod") if body.get("creationMethod") in ("API", "CLI") else "API",
            )
            row.group = group
            row.integration_id = channel.id
            row.parent_id = rows[-1].id if rows else None
            row.content = content
            row.publish_date = publish_date
            row.settings = settings
            row.image = json.dumps(value.get("image", []), separators=(",", ":"))
            row.delay = int(value.get("delay") or 0)
            row.interval_in_days = int(interval) if interval else None
            if post_type == "draft":
                row.state = "DRAFT"
            elif post_type != "update":
                row.state = "QUEUE"
            self._rows[row.id] = row
            rows.append(row)

        # An edit names the old group: its remaining live rows are soft-deleted.
        old_group = post.get("group")
        if old_group:
            for row in self._rows.values():
                if row.group == old_group and row.deleted_at is None:
                    row.deleted_at = datetime.now(timezone.utc)
                    row.parent_id = None
        return rows[0]

    def _delete_group(self, group: str) -> None:
        now = datetime.now(timezone.utc)
        for row in self._rows.values():
            if row.group == group:
                row.deleted_at = now

    def _find_channel(self, integration_id: str) -> _Channel | None:
        return next((channel for channel in self._channels if channel.id == integration_id), None)

    def _channel(self, integration_id: str) -> _Channel:
        channel = self._find_channel(integration_id)
        if channel is None:
            raise KeyError(f"integration {integration_id} not found")
        return channel

    def _live_root(self, post_id: str) -> _PostRow:
        row = self._rows.get(post_id)
        if row is None or row.deleted_at is not None:
            raise KeyError(f"post {post_id} not found or deleted")
        if row.parent_id is not None:
            raise KeyError(f"post {post_id} is a thread reply: pass the id of the root post")
        return row

    def _list_item(self, row: _PostRow, channel: _Channel) -> dict[str, Any]:
        return {
            "id": row.id,
            "content": row.content,
            "publishDate": _format_date(row.publish_date),
            "releaseURL": row.release_url,
            "releaseId": row.release_id,
            "state": row.state,
            "intervalInDays": row.interval_in_days,
            "group": row.group,
            "creationMethod": row.creation_method,
            "settings": row.settings,
            "tags": [],
            "integration": {
                "id": channel.id,
                "providerIdentifier": channel.identifier,
                "name": channel.name,
                "picture": channel.picture,
            },
        }

    def _recurring_occurrences(self, row: _PostRow, channel: _Channel, end: datetime) -> list[dict[str, Any]]:
        """Expand a repeating post into one item per occurrence up to ``end``.

        Postiz starts at the first publish date whatever the window's start, and
        adds ``actualDate`` with the original date.
        """
        items = []
        occurrence = row.publish_date
        while occurrence <= end and row.interval_in_days:
            item = self._list_item(row, channel)
            item["publishDate"] = _format_date(occurrence)
            item["actualDate"] = _format_date(row.publish_date)
            items.append(item)
            occurrence += timedelta(days=row.interval_in_days)
        return items

    def _webhook_item(self, row: _PostRow, channel: _Channel) -> dict[str, Any]:
        return {
            "id": row.id,
            "content": row.content,
            "publishDate": _format_date(row.publish_date),
            "releaseURL": row.release_url,
            "state": row.state,
            "integration": {
                "id": channel.id,
                "name": channel.name,
                "providerIdentifier": channel.identifier,
                "picture": channel.picture,
                "type": "social",
            },
        }

    def _row_snapshot(self, row: _PostRow) -> dict[str, Any]:
        channel = self._channel(row.integration_id)
        return {
            "id": row.id,
            "group": row.group,
            "parentPostId": row.parent_id,
            "content": row.content,
            "publishDate": _format_date(row.publish_date),
            "state": row.state,
            "releaseURL": row.release_url,
            "releaseId": row.release_id,
            "settings": row.settings,
            "image": row.image,
            "delay": row.delay,
            "intervalInDays": row.interval_in_days,
            "creationMethod": row.creation_method,
            "deletedAt": _format_date(row.deleted_at) if row.deleted_at else None,
            "integration": {"id": channel.id, "providerIdentifier": channel.identifier, "name": channel.name},
        }


# Routes relative to /public/v1. Express matches paths case-insensitively and
# ignores one trailing slash.
_ROUTES: list[tuple[str, re.Pattern[str], str]] = [
    ("GET", re.compile(r"/is-connected", re.IGNORECASE), "is_connected"),
    ("GET", re.compile(r"/integrations", re.IGNORECASE), "list_integrations"),
    ("GET", re.compile(r"/find-slot/(?P<integration_id>[^/]+)", re.IGNORECASE), "find_slot"),
    ("GET", re.compile(r"/posts", re.IGNORECASE), "list_posts"),
    ("POST", re.compile(r"/posts", re.IGNORECASE), "create_posts"),
    ("DELETE", re.compile(r"/posts/group/(?P<group>[^/]+)", re.IGNORECASE), "delete_group"),
    ("DELETE", re.compile(r"/posts/(?P<post_id>[^/]+)", re.IGNORECASE), "delete_post"),
    ("PUT", re.compile(r"/posts/(?P<post_id>[^/]+)/status", re.IGNORECASE), "change_status"),
]


def _match_route(method: str, path: str) -> tuple[str, dict[str, str]] | None:
    if not path.lower().startswith(API_PREFIX):
        return None
    relative = path[len(API_PREFIX) :]
    if relative.endswith("/") and len(relative) > 1:
        relative = relative[:-1]
    for route_method, pattern, name in _ROUTES:
        match = pattern.fullmatch(relative)
        if route_method == method and match:
            return name, {key: unquote(value) for key, value in match.groupdict().items()}
    return None


def _parse_json_body(content_type: str | None, raw: bytes) -> tuple[object, str | None]:
    """Return the request body as a route receives it, and the JSON parser's error message if any.

    Like Express, a body that is empty or not ``application/json`` reads as ``{}``.
    """
    if not raw or "json" not in (content_type or "").lower():
        return {}, None
    try:
        return json.loads(raw), None
    except (ValueError, UnicodeDecodeError) as exc:
        position = getattr(exc, "pos", 0)
        # Node's wording of this message differs between versions, so only the
        # status and the body's shape match Postiz.
        return None, f"Unexpected token in JSON at position {position}"


def _channel_from_config(item: dict[str, Any]) -> _Channel:
    customer = item.get("customer")
    return _Channel(
        id=str(item.get("id") or new_cuid()),
        name=str(item["name"]),
        identifier=str(item["identifier"]),
        picture=item.get("picture"),
        disabled=bool(item.get("disabled", False)),
        profile=item.get("profile"),
        customer=dict(customer) if isinstance(customer, dict) else None,
        posting_times=[int(minutes) for minutes in item.get("postingTimes", DEFAULT_POSTING_TIMES)],
        verified=bool(item.get("verified", False)),
    )


def _bad_request(message: str | list[str]) -> _Reply:
    """Return Nest's 400 body: one message for a thrown BadRequestException, a list for validation errors."""
    return _Reply(400, {"statusCode": 400, "message": message, "error": "Bad Request"})


def _has_integration_id(post: object) -> bool:
    """Mirror JavaScript's truthiness test of ``post?.integration?.id``."""
    if not isinstance(post, dict) or not isinstance(post.get("integration"), dict):
        return False
    value = post["integration"].get("id")
    return value not in (None, "", 0, False)


def _js_string(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


# Request validation. Messages follow class-validator's defaults, with the
# property path that Nest's ValidationPipe puts in front of nested errors.


def _create_body_errors(body: dict[str, Any]) -> list[str]:
    """Return the E3 messages for a create body, in the order of Postiz's DTO fields.

    Postiz validates every post item as ``type: "schedule"`` unless the item has a
    ``type`` of its own, so an item typed ``draft`` skips its settings check.
    """
    errors: list[str] = []
    if "order" in body and not isinstance(body["order"], str):
        errors.append("order must be a string")
    errors += _required(body, "shortLink", _is_bool, "must be a boolean value")
    if "inter" in body and body["inter"] is not None and not _is_number(body["inter"]):
        errors.append("inter must be a number conforming to the specified constraints")
    if "republish" in body and body["republish"] is not None and not _is_bool(body["republish"]):
        errors.append("republish must be a boolean value")
    errors += _required(body, "date", lambda value: _parse_iso8601(value) is not None, "must be a valid ISO 8601 date string")
    errors += _required(body, "tags", lambda value: isinstance(value, list), "must be an array")
    tags = body.get("tags")
    if isinstance(tags, list):
        for index, tag in enumerate(tags):
            errors += _tag_errors(f"tags.{index}", tag)

    posts = body["posts"]
    if not posts:
        errors.append("posts must contain at least 1 elements")
    for index, post in enumerate(posts):
        errors += _post_errors(f"posts.{index}", post)
    return errors


def _required(container: dict[str, Any], name: str, check: Callable[[object], bool], message: str, prefix: str = "") -> list[str]:
    value = container.get(name)
    if value is None:
        return [f"{prefix}{name} should not be null or undefined", f"{prefix}{name} {message}"]
    if not check(value):
        return [f"{prefix}{name} {message}"]
    return []


def _tag_errors(path: str, tag: object) -> list[str]:
    if not isinstance(tag, dict):
        return [f"{path}.nested property must be either object or array"] if tag is not None else []
    errors = []
    for name in ("value", "label"):
        errors += _required(tag, name, lambda value: isinstance(value, str), "must be a string", f"{path}.")
    return errors


def _post_errors(path: str, post: dict[str, Any]) -> list[str]:
    errors: list[str] = []
    values = post.get("value")
    if values is None:
        errors += [f"{path}.value should not be null or undefined"]
    if not isinstance(values, list):
        errors += [f"{path}.value must contain at least 1 elements", f"{path}.value must be an array"]
    elif not values:
        errors.append(f"{path}.value must contain at least 1 elements")
    else:
        for index, value in enumerate(values):
            errors += _value_errors(f"{path}.value.{index}", value)

    if "group" in post and post["group"] is not None and not isinstance(post["group"], str):
        errors.append(f"{path}.group must be a string")
    if post.get("type", "schedule") != "draft":
        errors += [f"{path}.settings.{message}" for message in _settings_errors(post["settings"])]
    return errors


def _value_errors(path: str, value: object) -> list[str]:
    if not isinstance(value, dict):
        return [f"{path}.nested property value must be either object or array"]
    errors: list[str] = []
    if "content" not in value or value["content"] is None:
        errors += [f"{path}.content should not be null or undefined", f"{path}.content must be a string"]
    images = value.get("image")
    if not _has_text(value.get("content")) and not (isinstance(images, list) and images):
        # Postiz's own message starts with a space, hence "value.0. If".
        errors.append(f"{path}. If images do not exist, content must be a non-empty string.")
    if "id" in value and value["id"] is not None and not isinstance(value["id"], str):
        errors.append(f"{path}.id must be a string")
    if "delay" in value and value["delay"] is not None and not _is_number(value["delay"]):
        errors.append(f"{path}.delay must be a number conforming to the specified constraints")
    if not isinstance(images, list):
        errors.append(f"{path}.image must be an array")
    else:
        for index, media in enumerate(images):
            errors += _media_errors(f"{path}.image.{index}", media)
    return errors


def _media_errors(path: str, media: object) -> list[str]:
    if not isinstance(media, dict):
        return [f"{path}.nested property image must be either object or array"]
    errors = _required(media, "id", lambda value: isinstance(value, str), "must be a string", f"{path}.")
    media_path = media.get("path")
    if media_path is None:
        errors += [f"{path}.path should not be null or undefined", f"{path}.path must be a string"]
    elif not isinstance(media_path, str):
        errors.append(f"{path}.path must be a string")
    if not (isinstance(media_path, str) and media_path.split("?")[0].endswith(MEDIA_EXTENSIONS)):
        # A custom constraint without the property name, so Postiz prints "image.0.File".
        errors.append(f"{path}.File must have a valid extension: .png, .jpg, .jpeg, .gif, .webp, or .mp4")
    return errors


def _settings_errors(settings: dict[str, Any]) -> list[str]:
    """Return the provider settings errors, without the property path."""
    provider = settings["__type"]
    errors: list[str] = []
    if provider == "x":
        post_type = settings.get("post_type")
        if post_type is not None and post_type not in ("post", "article"):
            errors.append("post_type must be one of the following values: post, article")
        if post_type != "article" and settings.get("who_can_reply_post") not in WHO_CAN_REPLY_VALUES:
            errors.append(f"who_can_reply_post must be one of the following values: {', '.join(WHO_CAN_REPLY_VALUES)}")
        community = settings.get("community")
        if community is not None and not (isinstance(community, str) and re.fullmatch(r"(https://x\.com/i/communities/\d+)?", community)):
            errors.append("Invalid X community URL. It should be in the format: https://x.com/i/communities/1493446837214187523")
        if post_type == "article":
            title = settings.get("article_title")
            if not isinstance(title, str):
                errors.append("article_title must be a string")
            elif not title:
                errors.append("Article title is required")
            if settings.get("article_status") not in ("draft", "published"):
                errors.append("article_status must be one of the following values: draft, published")
        for flag in ("made_with_ai", "paid_partnership"):
            if settings.get(flag) is not None and not _is_bool(settings[flag]):
                errors.append(f"{flag} must be a boolean value")
    elif provider in ("linkedin", "linkedin-page"):
        carousel = settings.get("post_as_images_carousel")
        if carousel is not None and not _is_bool(carousel):
            errors.append("post_as_images_carousel must be a boolean value")
        name = settings.get("carousel_name")
        if name is not None and not isinstance(name, str):
            errors.append("carousel_name must be a string")
    return errors


def _channel_rule_error(body: dict[str, Any], posts: list[dict[str, Any]], channels: list[_Channel]) -> _Reply | None:
    """Return the first per-channel rule violation as Postiz's E4 reply, or None.

    Empty posts are checked for every type. Settings, media and length are
    checked unless the request's ``type`` is ``draft``.
    """
    for post, channel in zip(posts, channels):
        if any(_counted_length(channel, value["content"]) == 0 and not value["image"] for value in post["value"]):
            return _rule_reply(channel, "Your post should have at least one character or one image.")
    if body.get("type") == "draft":
        return None

    for post, channel in zip(posts, channels):
        settings_errors = _settings_errors(post["settings"])
        if settings_errors:
            return _rule_reply(channel, settings_errors[0])
        media_error = _media_rule_error(channel, post)
        if media_error is not None:
            return _rule_reply(channel, media_error)
        limit = _max_length(channel, post["settings"])
        if any(_counted_length(channel, value["content"]) > limit for value in post["value"]):
            return _rule_reply(channel, "post is too long, please fix it")
    return None


def _rule_reply(channel: _Channel, message: str) -> _Reply:
    return _Reply(400, {"statusCode": 400, "provider": channel.identifier, "name": channel.name, "message": message})


def _max_length(channel: _Channel, settings: dict[str, Any]) -> int:
    if channel.identifier == "x":
        if settings.get("post_type") == "article":
            return 100000
        return 4000 if channel.verified else 280
    if channel.identifier in ("linkedin", "linkedin-page"):
        return 3000
    if channel.identifier == "wrapcast":
        return 800
    return 1000000


def _media_rule_error(channel: _Channel, post: dict[str, Any]) -> str | None:
    media = [[item.get("path") or "" for item in value["image"]] for value in post["value"]]
    first, replies = media[0], media[1:]
    settings = post["settings"]
    if channel.identifier in ("linkedin", "linkedin-page"):
        if settings.get("post_as_images_carousel") in (True, "true") and (
            len(first) < 2 or any("mp4" in path for path in first)
        ):
            return "Carousel can only be created with 2 or more images and no videos."
        if len(first) > 1 and any("mp4" in path for path in first):
            return "Can have maximum 1 media when selecting a video."
        if any(reply for reply in replies):
            return "Comments can only contain text."
    elif channel.identifier == "wrapcast":
        if any("mp4" in path for paths in media for path in paths):
            return "Can only accept images"
    elif channel.identifier == "x" and settings.get("post_type") == "article":
        if any(".mp4" in path.lower() for paths in media for path in paths):
            return "X articles only support images"
        if settings.get("article_status") != "published" and replies:
            return "A draft article cannot have thread replies, remove them or publish the article"
    return None


def _counted_length(channel: _Channel, content: str) -> int:
    """Return the length Postiz checks against the channel's limit.

    Postiz flattens the content first. For X it takes the larger of twitter-text's
    weighted length and the plain length, so a long URL counts in full. Other
    networks count UTF-16 code units, as JavaScript's ``length`` does.
    """
    text = _flatten_for_length(content)
    length = _js_length(text)
    if channel.identifier == "x":
        return max(twitter_text.parse_tweet(text).weightedLength, length)
    return length


def _js_length(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


# Content handling: input sanitizing, flattening for the length check, link stripping.


class _ContentSanitizer(HTMLParser):
    """Keep Postiz's allowed tags and attributes and escape all text, like DOMPurify's output."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skipped_depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _DROPPED_WITH_CONTENT:
            self._skipped_depth += 1
            return
        if self._skipped_depth or tag not in _ALLOWED_TAGS:
            return
        kept_attributes = []
        for name, value in attrs:
            if name not in _ALLOWED_ATTRIBUTES or value is None:
                continue
            if name == "href" and not _ALLOWED_URI.match(value.strip()):
                continue
            escaped = value.replace("&", "&amp;").replace('"', "&quot;")
            kept_attributes.append(f' {name}="{escaped}"')
        self.parts.append(f"<{tag}{''.join(kept_attributes)}>")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in _VOID_TAGS and tag in _ALLOWED_TAGS and not self._skipped_depth:
            self.parts.append(f"</{tag}>")

    def handle_endtag(self, tag: str) -> None:
        if tag in _DROPPED_WITH_CONTENT:
            self._skipped_depth = max(0, self._skipped_depth - 1)
            return
        if not self._skipped_depth and tag in _ALLOWED_TAGS and tag not in _VOID_TAGS:
            self.parts.append(f"</{tag}>")

    def handle_data(self, data: str) -> None:
        if not self._skipped_depth:
            self.parts.append(_escape_text(data))


def _escape_text(text: str) -> str:
    return text.replace("&", "&amp;").replace("\xa0", "&nbsp;").replace("<", "&lt;").replace(">", "&gt;")


def _sanitize_content(content: object) -> str:
    """Sanitize one ``content`` value as Postiz does on input (v2.21.7 and later).

    A non-string becomes an empty string. Text without ``<`` is kept as it is,
    because DOMPurify returns early for it. Anything else keeps only the allowed
    tags and has its text escaped, so ``I <3 this`` is stored as ``I &lt;3 this``.
    Unlike a browser DOM, html.parser does not repair broken markup.
    """
    if not isinstance(content, str) or not content:
        return ""
    if "<" not in content:
        return content
    sanitizer = _ContentSanitizer()
    sanitizer.feed(content)
    sanitizer.close()
    return "".join(sanitizer.parts)


def _sanitize_contents(posts: list[dict[str, Any]]) -> None:
    for post in posts:
        values = post.get("value")
        if not isinstance(values, list):
            continue
        for value in values:
            if isinstance(value, dict) and "content" in value and value["content"] is not None:
                value["content"] = _sanitize_content(value["content"])


_BOLD_OFFSETS = {"a": 0x1D5EE, "A": 0x1D5D4, "0": 0x1D7EC}


def _to_bold(text: str) -> str:
    def convert(char: str) -> str:
        for first, offset in _BOLD_OFFSETS.items():
            base = ord(first)
            span = 10 if first == "0" else 26
            if base <= ord(char) < base + span:
                return chr(offset + ord(char) - base)
        return char

    return "".join(convert(char) for char in text)


def _to_underlined(text: str) -> str:
    return "".join(char + "\u0332" if char.isascii() and char.isalnum() else char for char in text)


def _flatten_for_length(content: str) -> str:
    """Flatten stored content the way Postiz's "normal" flattener does before counting.

    Content without a ``<p>`` is counted in its HTML-serialized form, so ``&``
    counts as five characters (``&amp;``). Paragraph content loses its first
    ``<p>``, gets one newline per later paragraph, keeps a link's URL instead of
    its text and turns ``<strong>`` and ``<u>`` into Unicode bold and underline.
    NOTE: this follows Postiz's regular expressions closely but is not its parse5
    and striptags pipeline, so unusual markup may count a few characters apart.
    """
    serialized = content if "<" in content else _escape_text(html.unescape(content))
    if "<p>" not in serialized:
        return serialized

    text = (
        serialized.replace("&amp;", "&").replace("&nbsp;", " ").replace("&quot;", '"').replace("&#39;", "'")
    )
    text = re.sub(r"^<p[^>]*>", "", text, flags=re.IGNORECASE)
    text = re.sub(r"<p[^>]*>", "\n", text, flags=re.IGNORECASE)
    text = re.sub(r"</p>", "", text, flags=re.IGNORECASE)
    text = re.sub(r'<a[^>]*?href="([^"]*)"[^>]*>.*?</a>', r"\1", text, flags=re.DOTALL)
    text = re.sub(r"<li[^>]*>(.*?)</li[^>]*>", lambda match: "- " + match.group(1).replace("\n", "") + "\n", text, flags=re.DOTALL)
    text = re.sub(r"<strong>(.+?)</strong>", lambda match: _to_bold(match.group(1)), text, flags=re.IGNORECASE)
    text = re.sub(r"<u>(.+?)</u>", lambda match: _to_underlined(match.group(1)), text, flags=re.IGNORECASE)
    text = re.sub(r"</?[a-zA-Z][^>]*>", "", text)
    return text.replace("&gt;", ">").replace("&lt;", "<")


# Postiz removes scheme URLs and bare domains with a common top-level domain, but
# leaves e-mail addresses and dotted paths alone.
_LINK_TLDS = (
    "online|store|cloud|social|world|blog|shop|site|tech|news|live|link|info|app|dev|xyz|com|net|org|edu|gov"
    "|biz|io|co|ai|me|tv|cc|ly|gl|sh|fm|am|be|to|gg|so|is|us|uk|ca|au|de|fr|es|it|nl|se|no|dk|fi|pl|ch|at|ie"
    "|nz|za|in|jp|br|mx|ru|eu"
)
_LINK_PATTERN = re.compile(
    r"https?://[^\s<>\"']+"
    rf"|(?<![\w@./-])(?:[a-z0-9-]+\.)+(?:{_LINK_TLDS})\b(?:/[-a-z0-9()@:%_+.~#?&/=]*)?",
    re.IGNORECASE,
)


def _strip_links(content: str) -> str:
    """Remove links from X content, as Postiz does when ``STRIP_LINKS_FROM_X_POSTS`` is set."""
    text = _LINK_PATTERN.sub("", content)
    text = re.sub(r"<a\b[^>]*>\s*</a>", "", text, flags=re.IGNORECASE)
    text = re.sub(r"[ \t]{2,}", " ", text)
    text = re.sub(r" +\n", "\n", text)
    return text.strip()


# Dates.

_ISO8601 = re.compile(
    r"(?P<date>\d{4}-\d{2}-\d{2})"
    r"(?:[T ](?P<hour>\d{2}):(?P<minute>\d{2})(?::(?P<second>\d{2})(?:[.,](?P<fraction>\d+))?)?"
    r"(?P<offset>Z|[+-]\d{2}(?::?\d{2})?)?)?",
    re.IGNORECASE,
)


def _parse_iso8601(value: object) -> datetime | None:
    """Parse the ISO 8601 forms Postiz accepts and return UTC, or None when invalid.

    A value without an offset is UTC, because Postiz runs with ``TZ=UTC``. Month
    and day must be zero-padded. NOTE: class-validator also accepts week dates,
    ordinal dates and compact forms, which this parser rejects.
    """
    if not isinstance(value, str):
        return None
    match = _ISO8601.fullmatch(value.strip())
    if match is None:
        return None
    try:
        day = datetime.strptime(match["date"], "%Y-%m-%d")
        fraction = (match["fraction"] or "0")[:6].ljust(6, "0")
        moment = day.replace(
            hour=int(match["hour"] or 0),
            minute=int(match["minute"] or 0),
            second=int(match["second"] or 0),
            microsecond=int(fraction),
        )
    except ValueError:
        return None

    offset = match["offset"]
    if offset is None or offset.upper() == "Z":
        return moment.replace(tzinfo=timezone.utc)
    sign = 1 if offset[0] == "+" else -1
    digits = offset[1:].replace(":", "")
    delta = timedelta(hours=int(digits[:2]), minutes=int(digits[2:] or 0))
    return (moment - sign * delta).replace(tzinfo=timezone.utc)


def _truncate_to_milliseconds(moment: datetime) -> datetime:
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def _format_date(moment: datetime) -> str:
    utc = moment.astimezone(timezone.utc)
    return f"{utc:%Y-%m-%dT%H:%M:%S}.{utc.microsecond // 1000:03d}Z"


def _is_bool(value: object) -> bool:
    return isinstance(value, bool)


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _has_text(content: object) -> bool:
    """Return whether content has text left once tags are stripped, as Postiz's ValidContent checks."""
    return isinstance(content, str) and re.sub(r"<[^>]*>", "", content).strip() != ""


# Publishing.


def _release_for(channel: _Channel) -> tuple[str, str]:
    """Return a made-up platform id and release URL in the network's format."""
    profile = channel.profile or "acme"
    if channel.identifier == "x":
        status_id = str(secrets.randbelow(9 * 10**18) + 10**18)
        return status_id, f"https://twitter.com/{profile}/status/{status_id}"
    if channel.identifier in ("linkedin", "linkedin-page"):
        urn = f"urn:li:share:{secrets.randbelow(9 * 10**18) + 10**18}"
        return urn, f"https://www.linkedin.com/feed/update/{urn}"
    if channel.identifier == "wrapcast":
        cast_hash = "0x" + secrets.token_hex(20)
        return cast_hash, f"https://warpcast.com/{profile}/{cast_hash[:10]}"
    release_id = secrets.token_hex(8)
    return release_id, f"https://example.invalid/{channel.identifier}/{release_id}"


def _deliver_webhook(url: str, body: list[dict[str, Any]]) -> None:
    """POST the webhook body once. Postiz ignores every delivery failure and never retries."""
    try:
        httpx.post(url, json=body, headers={"Content-Type": "application/json"}, timeout=5.0)
    except httpx.HTTPError:
        pass


__all__ = ["PostizStandin", "RecordedRequest", "new_cuid"]
