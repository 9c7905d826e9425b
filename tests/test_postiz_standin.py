"""PostizClient against a running PostizStandin over real HTTP on 127.0.0.1."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any, NamedTuple

import httpx
import pytest

from borker.models import Platform
from borker.postiz import (
    Integration,
    NewPost,
    PostizAuthError,
    PostizClient,
    PostizPlanLimit,
    PostizRateLimited,
    PostizTimeout,
    PostizUnavailable,
    PostizValidationError,
    find_integration,
)
from borker.standins.http import JsonHandler, LoopbackServer
from borker.standins.postiz import PostizStandin

API_KEY = "demo-postiz-key"
SEPT_1_1400 = datetime(2026, 9, 1, 14, 0, tzinfo=timezone.utc)
WHO_CAN_REPLY_ERROR = (
    "posts.0.settings.who_can_reply_post must be one of the following values: "
    "everyone, following, mentionedUsers, subscribers, verified"
)


class Delivery(NamedTuple):
    path: str
    content_type: str | None
    body: Any


class _ReceiverHandler(JsonHandler):
    server: WebhookReceiver
    disable_nagle_algorithm = True

    def do_POST(self) -> None:  # noqa: N802 - stdlib naming
        body = json.loads(self.read_body() or b"null")
        self.server.deliveries.append(Delivery(self.path, self.headers.get("Content-Type"), body))
        self.send_json(200, {"ok": True})


class WebhookReceiver(LoopbackServer):
    """Loopback server that records each webhook POST it receives."""

    def __init__(self) -> None:
        super().__init__(_ReceiverHandler)
        self.deliveries: list[Delivery] = []

    def serve_forever(self, poll_interval: float = 0.05) -> None:
        super().serve_forever(poll_interval)


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def standin() -> Iterator[PostizStandin]:
    server = PostizStandin()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def client(standin: PostizStandin) -> Iterator[PostizClient]:
    with PostizClient(base_url=standin.base_url, api_key=API_KEY, timeout=5.0) as postiz:
        yield postiz


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    """Plain HTTP client for requests the PostizClient would never send."""
    with httpx.Client(timeout=5.0) as raw_client:
        yield raw_client


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    server = WebhookReceiver()
    server.start()
    yield server
    server.stop()


def channel_for(client: PostizClient, platform: Platform) -> Integration:
    return find_integration(client.list_integrations(), platform)


def schedule(client: PostizClient, platform: Platform, *parts: str, post_id: str | None = None, post_type: str = "schedule") -> str:
    integration = channel_for(client, platform)
    created = client.create_post(
        posts=[NewPost(integration_id=integration.id, platform=platform, parts=list(parts), post_id=post_id)],
        date=SEPT_1_1400,
        post_type=post_type,
    )
    return created[0].post_id


def listed(client: PostizClient) -> list[Any]:
    return client.list_posts(start=SEPT_1_1400 - timedelta(days=1), end=SEPT_1_1400 + timedelta(days=1))


def raw_post(
    http: httpx.Client, standin: PostizStandin, body: object, authorization: str | None = API_KEY
) -> httpx.Response:
    headers = {"Authorization": authorization} if authorization is not None else {}
    return http.post(f"{standin.base_url}/posts", json=body, headers=headers)


def x_body(standin: PostizStandin, settings: dict[str, Any] | None = None, **overrides: Any) -> dict[str, Any]:
    x_id = next(item["id"] for item in standin.integrations if item["identifier"] == "x")
    post: dict[str, Any] = {"integration": {"id": x_id}, "value": [{"content": "Hello", "image": []}]}
    if settings is not None:
        post["settings"] = settings
    body: dict[str, Any] = {
        "type": "schedule",
        "date": "2026-09-01T14:00:00.000Z",
        "shortLink": False,
        "tags": [],
        "posts": [post],
    }
    body.update(overrides)
    return body


# Channels and authentication


def test_default_channels(client: PostizClient) -> None:
    integrations = client.list_integrations()

    assert [(item.name, item.identifier, item.platform) for item in integrations] == [
        ("Acme on X", "x", Platform.X),
        ("Acme on LinkedIn", "linkedin-page", Platform.LINKEDIN),
        ("Acme on Farcaster", "wrapcast", Platform.FARCASTER),
    ]
    assert all(re.fullmatch(r"c[a-z0-9]{24}", item.id) for item in integrations)
    assert integrations[0].profile == "acme"
    assert not any(item.disabled for item in integrations)


def test_is_connected_with_key(client: PostizClient) -> None:
    assert client.is_connected() is True


def test_bearer_key_rejected(http: httpx.Client, standin: PostizStandin) -> None:
    response = http.get(f"{standin.base_url}/integrations", headers={"Authorization": f"Bearer {API_KEY}"})

    assert response.status_code == 401
    assert response.json() == {"msg": "Invalid API key"}


def test_missing_key_rejected(http: httpx.Client, standin: PostizStandin) -> None:
    response = http.get(f"{standin.base_url}/is-connected")

    assert response.status_code == 401
    assert response.json() == {"msg": "No API Key found"}


def test_client_wrong_key_raises_auth(standin: PostizStandin) -> None:
    with PostizClient(base_url=standin.base_url, api_key="wrong") as wrong:
        with pytest.raises(PostizAuthError):
            wrong.is_connected()


def test_disabled_channel_listed(standin: PostizStandin, client: PostizClient) -> None:
    x_id = channel_for(client, Platform.X).id
    standin.set_integration_disabled(x_id)

    integrations = client.list_integrations()

    assert [item.disabled for item in integrations if item.id == x_id] == [True]


def test_request_log_omits_key(standin: PostizStandin, client: PostizClient) -> None:
    schedule(client, Platform.X, "Hello")

    methods = [(request.method, request.path) for request in standin.requests]
    assert methods == [("GET", "/public/v1/integrations"), ("POST", "/public/v1/posts")]
    assert standin.requests[1].body["posts"][0]["value"] == [{"content": "Hello", "image": []}]
    assert API_KEY not in repr(standin.requests)


# Create, list, delete


def test_create_list_delete_round_trip(standin: PostizStandin, client: PostizClient) -> None:
    post_id = schedule(client, Platform.X, "Launch day")

    posts = listed(client)
    assert [(post.id, post.content, post.state, post.provider) for post in posts] == [(post_id, "Launch day", "QUEUE", "x")]
    assert posts[0].publish_date == SEPT_1_1400
    assert posts[0].integration_id == channel_for(client, Platform.X).id
    assert standin.create_count == 1

    client.delete_post(post_id=post_id)

    assert listed(client) == []
    with pytest.raises(PostizUnavailable):
        client.delete_post(post_id=post_id)
    client.delete_post(post_id=post_id, published_around=SEPT_1_1400)


def test_thread_parts_stored_as_replies(standin: PostizStandin, client: PostizClient) -> None:
    root_id = schedule(client, Platform.X, "Main", "Reply 1", "Reply 2")

    rows = standin.rows
    assert [row["content"] for row in rows] == ["Main", "Reply 1", "Reply 2"]
    assert rows[0]["parentPostId"] is None
    assert rows[1]["parentPostId"] == root_id
    assert rows[2]["parentPostId"] == rows[1]["id"]
    assert len({row["group"] for row in rows}) == 1
    assert [post.id for post in listed(client)] == [root_id]


def test_posts_maps_live_roots(standin: PostizStandin, client: PostizClient) -> None:
    live_id = schedule(client, Platform.X, "Kept", "Reply")
    deleted_id = schedule(client, Platform.LINKEDIN, "Deleted")
    client.delete_post(post_id=deleted_id)

    posts = standin.posts

    assert list(posts) == [live_id]
    assert posts[live_id]["content"] == "Kept"
    assert posts[live_id]["state"] == "QUEUE"
    assert posts[live_id]["publishDate"] == "2026-09-01T14:00:00.000Z"
    assert posts.get(deleted_id) is None
    assert len(standin.rows) == 3


def test_integrations_replaced(standin: PostizStandin, client: PostizClient) -> None:
    standin.integrations = [item for item in standin.integrations if item["identifier"] != "wrapcast"]

    assert [item.identifier for item in client.list_integrations()] == ["x", "linkedin-page"]


def test_settings_stored_as_json_string(http: httpx.Client, standin: PostizStandin, client: PostizClient) -> None:
    schedule(client, Platform.FARCASTER, "gm")

    row = standin.rows[0]
    assert json.loads(row["settings"]) == {"__type": "wrapcast"}
    response = http.get(
        f"{standin.base_url}/posts",
        params={"startDate": "2026-09-01T00:00:00Z", "endDate": "2026-09-02T00:00:00Z"},
        headers={"Authorization": API_KEY},
    )
    assert response.json()["posts"][0]["settings"] == '{"__type":"wrapcast"}'


def test_channels_get_separate_groups(standin: PostizStandin, client: PostizClient) -> None:
    integrations = client.list_integrations()
    created = client.create_post(
        posts=[NewPost(integration_id=item.id, platform=item.platform, parts=["Hello"]) for item in integrations if item.platform],
        date=SEPT_1_1400,
    )

    assert [item.integration_id for item in created] == [item.id for item in integrations]
    assert len({row["group"] for row in standin.rows}) == 3
    assert client.rate_limit is not None
    assert client.rate_limit.remaining == 29

    client.delete_post(post_id=created[0].post_id)

    assert sorted(post.id for post in listed(client)) == sorted(item.post_id for item in created[1:])


def test_upsert_known_id_updates_row(standin: PostizStandin, client: PostizClient) -> None:
    post_id = schedule(client, Platform.LINKEDIN, "First draft")

    again = schedule(client, Platform.LINKEDIN, "Second draft", post_id=post_id)

    assert again == post_id
    assert [(post.id, post.content) for post in listed(client)] == [(post_id, "Second draft")]
    assert len(standin.rows) == 1
    assert standin.create_count == 2


def test_unknown_upsert_id_creates_rows(standin: PostizStandin, client: PostizClient) -> None:
    # Prisma creates the row without the id it searched for, so an id that
    # Postiz never assigned does not make a retried create idempotent.
    first = schedule(client, Platform.X, "Hello", post_id="borker-item-7")
    second = schedule(client, Platform.X, "Hello", post_id="borker-item-7")

    assert first != "borker-item-7"
    assert second != first
    assert len(listed(client)) == 2


def test_published_post_not_rescheduled(standin: PostizStandin, client: PostizClient) -> None:
    post_id = schedule(client, Platform.X, "Hello")
    standin.publish(post_id)

    with pytest.raises(PostizValidationError) as caught:
        schedule(client, Platform.X, "Hello again", post_id=post_id)

    assert "This post was already published on 2026-09-01 14:00 UTC" in str(caught.value)
    assert listed(client)[0].content == "Hello"


def test_preview_url_uses_frontend() -> None:
    server = PostizStandin(frontend_url="http://127.0.0.1:8080/postiz/")

    assert server.preview_url("cabc") == "http://127.0.0.1:8080/postiz/p/cabc?share=true"
    server.server_close()


def test_draft_state(client: PostizClient) -> None:
    schedule(client, Platform.X, "Not yet", post_type="draft")

    assert [post.state for post in listed(client)] == ["DRAFT"]


def test_offset_date_normalized(http: httpx.Client, standin: PostizStandin, client: PostizClient) -> None:
    body = x_body(standin, {"who_can_reply_post": "everyone"}, date="2026-09-01T16:00:00.123+02:00")

    response = raw_post(http, standin, body)

    assert response.status_code == 201
    assert standin.rows[0]["publishDate"] == "2026-09-01T14:00:00.123Z"
    assert [post.publish_date for post in listed(client)] == [SEPT_1_1400 + timedelta(milliseconds=123)]


def test_publish_date_offset_shifts_rows() -> None:
    server = PostizStandin(publish_date_offset=timedelta(hours=-1))
    server.start()
    try:
        with PostizClient(base_url=server.base_url, api_key=API_KEY) as postiz:
            schedule(postiz, Platform.X, "Hello")
            posts = listed(postiz)
    finally:
        server.stop()

    assert [post.publish_date for post in posts] == [SEPT_1_1400 - timedelta(hours=1)]


def test_recurring_post_expanded(http: httpx.Client, standin: PostizStandin) -> None:
    body = x_body(standin, {"who_can_reply_post": "everyone"}, inter=7)
    assert raw_post(http, standin, body).status_code == 201

    response = http.get(
        f"{standin.base_url}/posts",
        params={"startDate": "2026-09-10T00:00:00.000Z", "endDate": "2026-09-16T00:00:00.000Z"},
        headers={"Authorization": API_KEY},
    )

    posts = response.json()["posts"]
    assert [post["publishDate"] for post in posts] == ["2026-09-01T14:00:00.000Z", "2026-09-08T14:00:00.000Z", "2026-09-15T14:00:00.000Z"]
    assert {post["actualDate"] for post in posts} == {"2026-09-01T14:00:00.000Z"}
    assert {post["intervalInDays"] for post in posts} == {7}


def test_unpadded_date_rejected(http: httpx.Client, standin: PostizStandin) -> None:
    response = raw_post(http, standin, x_body(standin, {"who_can_reply_post": "everyone"}, date="2026-9-1T14:00:00Z"))

    assert response.status_code == 400
    assert response.json()["message"] == ["date must be a valid ISO 8601 date string"]


def test_find_slot_has_no_offset(http: httpx.Client, client: PostizClient, standin: PostizStandin) -> None:
    x_id = channel_for(client, Platform.X).id
    response = http.get(f"{standin.base_url}/find-slot/{x_id}", headers={"Authorization": API_KEY})

    assert response.status_code == 200
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}T(02:00|06:40|11:40):00", response.json()["date"])
    assert client.find_slot(integration_id=x_id) > datetime.now(timezone.utc)


def test_status_change(standin: PostizStandin, client: PostizClient) -> None:
    post_id = schedule(client, Platform.X, "Hello")

    assert client.set_post_status(post_id=post_id, status="draft") == "DRAFT"
    assert listed(client)[0].state == "DRAFT"
    with pytest.raises(PostizValidationError, match="Post not found"):
        client.set_post_status(post_id="cmissing", status="schedule")


def test_delete_group_always_succeeds(client: PostizClient) -> None:
    post_id = schedule(client, Platform.X, "Hello")
    group = listed(client)[0].group
    assert group is not None

    client.delete_group(group=group)
    client.delete_group(group="no-such-group")

    assert listed(client) == []
    with pytest.raises(PostizUnavailable):
        client.delete_post(post_id=post_id)


# Validation


def test_x_without_who_can_reply(http: httpx.Client, standin: PostizStandin) -> None:
    response = raw_post(http, standin, x_body(standin))

    assert response.status_code == 400
    assert response.json() == {"statusCode": 400, "message": [WHO_CAN_REPLY_ERROR], "error": "Bad Request"}
    assert standin.rows == []


def test_missing_short_link_and_tags(http: httpx.Client, standin: PostizStandin) -> None:
    body = x_body(standin, {"who_can_reply_post": "everyone"})
    del body["shortLink"]
    del body["tags"]

    response = raw_post(http, standin, body)

    assert response.status_code == 400
    assert response.json()["message"] == [
        "shortLink should not be null or undefined",
        "shortLink must be a boolean value",
        "tags should not be null or undefined",
        "tags must be an array",
    ]


def test_missing_image_and_content(http: httpx.Client, standin: PostizStandin) -> None:
    body = x_body(standin, {"who_can_reply_post": "everyone"})
    body["posts"][0]["value"] = [{"content": "   "}]

    response = raw_post(http, standin, body)

    assert response.json()["message"] == [
        "posts.0.value.0. If images do not exist, content must be a non-empty string.",
        "posts.0.value.0.image must be an array",
    ]


def test_missing_integration_id(http: httpx.Client, standin: PostizStandin) -> None:
    response = raw_post(http, standin, {"posts": [{"value": []}]})

    assert response.status_code == 400
    assert response.json()["message"] == "All posts must have an integration id"


def test_unknown_integration(client: PostizClient) -> None:
    with pytest.raises(PostizValidationError) as caught:
        client.create_post(
            posts=[NewPost(integration_id="cnope", platform=Platform.X, parts=["Hello"])],
            date=SEPT_1_1400,
        )

    assert str(caught.value) == "Postiz rejected the post: Integration with id cnope not found"


def test_draft_item_fails_settings_rule(http: httpx.Client, standin: PostizStandin) -> None:
    body = x_body(standin)
    body["posts"][0]["type"] = "draft"

    response = raw_post(http, standin, body)

    assert response.status_code == 400
    assert response.json() == {
        "statusCode": 400,
        "provider": "x",
        "name": "Acme on X",
        "message": WHO_CAN_REPLY_ERROR.removeprefix("posts.0.settings."),
    }


@pytest.mark.parametrize(
    ("platform", "network", "name", "fits", "too_long"),
    [
        (Platform.X, "X", "Acme on X", "a" * 280, "a" * 281),
        (Platform.X, "X", "Acme on X", "é" * 140, "https://example.com/" + "a" * 261),
        (Platform.X, "X", "Acme on X", "a" * 275 + "&", "a" * 276 + "&"),
        (Platform.LINKEDIN, "LinkedIn", "Acme on LinkedIn", "a" * 3000, "a" * 3001),
        (Platform.FARCASTER, "Farcaster", "Acme on Farcaster", "😀" * 400, "😀" * 400 + "a"),
    ],
)
def test_length_limit(
    client: PostizClient, platform: Platform, network: str, name: str, fits: str, too_long: str
) -> None:
    schedule(client, platform, fits)

    with pytest.raises(PostizValidationError) as caught:
        schedule(client, platform, too_long)

    assert str(caught.value) == f'Postiz rejected the post for {network} channel "{name}": post is too long, please fix it'
    assert len(listed(client)) == 1


def test_long_reply_rejected(client: PostizClient) -> None:
    with pytest.raises(PostizValidationError, match="post is too long"):
        schedule(client, Platform.X, "Short", "b" * 281)


def test_draft_skips_length(client: PostizClient) -> None:
    schedule(client, Platform.X, "a" * 400, post_type="draft")

    assert [post.state for post in listed(client)] == ["DRAFT"]


def test_html_characters_sanitized(standin: PostizStandin, client: PostizClient) -> None:
    schedule(client, Platform.LINKEDIN, "A & B <3 <script>alert(1)</script><strong>ok</strong>")
    schedule(client, Platform.FARCASTER, "Fish & chips")

    assert [row["content"] for row in standin.rows] == ["A &amp; B &lt;3 <strong>ok</strong>", "Fish & chips"]


def test_x_links_stripped() -> None:
    server = PostizStandin(strip_x_links=True)
    server.start()
    try:
        with PostizClient(base_url=server.base_url, api_key=API_KEY) as postiz:
            schedule(postiz, Platform.X, "Read https://example.com/a?b=1 and acme.io now, mail me@acme.io")
            schedule(postiz, Platform.LINKEDIN, "Read https://example.com/a")

            contents = sorted(post.content for post in listed(postiz))
    finally:
        server.stop()

    assert contents == ["Read and now, mail me@acme.io", "Read https://example.com/a"]


# Rate limit


def test_rate_limit_blocks_for_an_hour(http: httpx.Client) -> None:
    clock = FakeClock()
    server = PostizStandin(rate_limit=2, clock=clock)
    server.start()
    try:
        with PostizClient(base_url=server.base_url, api_key=API_KEY) as postiz:
            schedule(postiz, Platform.X, "One")
            assert postiz.rate_limit is not None
            assert (postiz.rate_limit.limit, postiz.rate_limit.remaining, postiz.rate_limit.reset_seconds) == (2, 1, 3600)

            clock.now += 600
            schedule(postiz, Platform.X, "Two")
            assert (postiz.rate_limit.remaining, postiz.rate_limit.reset_seconds) == (0, 3000)
            listed(postiz)

            clock.now += 60
            with pytest.raises(PostizRateLimited) as caught:
                schedule(postiz, Platform.X, "Three")
            assert caught.value.retry_after == 3600

            clock.now += 3599
            response = raw_post(http, server, x_body(server, {"who_can_reply_post": "everyone"}))
            assert response.status_code == 429
            assert response.headers["Retry-After"] == "1"
            assert response.json() == {"statusCode": 429, "message": "ThrottlerException: Too Many Requests"}

            clock.now += 1
            schedule(postiz, Platform.X, "Four")
            assert postiz.rate_limit.remaining == 1
            assert server.create_count == 3
    finally:
        server.stop()


def test_rate_limit_counts_rejected_creates(http: httpx.Client, standin: PostizStandin) -> None:
    for _ in range(30):
        assert raw_post(http, standin, x_body(standin)).status_code == 400

    assert raw_post(http, standin, x_body(standin)).status_code == 429

    standin.reset_rate_limit()
    assert raw_post(http, standin, x_body(standin, {"who_can_reply_post": "everyone"})).status_code == 201


def test_wrong_key_not_counted(http: httpx.Client, standin: PostizStandin) -> None:
    for _ in range(31):
        assert raw_post(http, standin, x_body(standin), authorization="wrong").status_code == 401

    response = raw_post(http, standin, x_body(standin, {"who_can_reply_post": "everyone"}))

    assert response.status_code == 201
    assert response.headers["X-RateLimit-Remaining"] == "29"


# Publishing and webhooks


def test_publish_sends_webhook(receiver: WebhookReceiver) -> None:
    server = PostizStandin(webhook_urls=[f"{receiver.url}/hooks/postiz/token123"])
    server.start()
    try:
        with PostizClient(base_url=server.base_url, api_key=API_KEY) as postiz:
            post_id = schedule(postiz, Platform.X, "Hello", "Reply")
            published = server.publish(post_id)
            posts = listed(postiz)
    finally:
        server.stop()

    assert len(receiver.deliveries) == 1
    delivery = receiver.deliveries[0]
    assert delivery.path == "/hooks/postiz/token123"
    assert delivery.content_type == "application/json"
    assert delivery.body == [published]
    assert published["id"] == post_id
    assert published["state"] == "PUBLISHED"
    assert published["publishDate"] == "2026-09-01T14:00:00.000Z"
    assert re.fullmatch(r"https://twitter\.com/acme/status/\d{19}", published["releaseURL"])
    assert published["integration"]["providerIdentifier"] == "x"
    assert published["integration"]["type"] == "social"
    assert posts[0].state == "PUBLISHED"
    assert posts[0].release_url == published["releaseURL"]
    assert posts[0].release_id == published["releaseURL"].rsplit("/", 1)[-1]


def test_publish_empty_webhook_body(receiver: WebhookReceiver) -> None:
    server = PostizStandin(webhook_urls=[receiver.url], empty_webhook_body=True)
    server.start()
    try:
        with PostizClient(base_url=server.base_url, api_key=API_KEY) as postiz:
            post_id = schedule(postiz, Platform.LINKEDIN, "Hello")
            server.publish(post_id, release_url="https://www.linkedin.com/feed/update/urn:li:share:1")
            posts = listed(postiz)
    finally:
        server.stop()

    assert [delivery.body for delivery in receiver.deliveries] == [[]]
    assert posts[0].release_url == "https://www.linkedin.com/feed/update/urn:li:share:1"


def test_publish_ignores_dead_webhook(client: PostizClient, standin: PostizStandin) -> None:
    closed = WebhookReceiver()
    dead_url = closed.url
    closed.server_close()
    standin.webhook_urls.append(dead_url)
    post_id = schedule(client, Platform.FARCASTER, "gm")

    published = standin.publish(post_id)

    assert re.fullmatch(r"https://warpcast\.com/acme/0x[0-9a-f]{8}", published["releaseURL"])
    assert listed(client)[0].state == "PUBLISHED"


def test_fail_sends_no_webhook(receiver: WebhookReceiver, client: PostizClient, standin: PostizStandin) -> None:
    standin.webhook_urls.append(receiver.url)
    post_id = schedule(client, Platform.X, "Hello")

    standin.fail(post_id)

    assert listed(client)[0].state == "ERROR"
    assert receiver.deliveries == []
    with pytest.raises(ValueError, match="only a QUEUE post"):
        standin.publish(post_id)


# Routes that do not exist and injected faults


def test_get_post_by_id_is_404(http: httpx.Client, standin: PostizStandin, client: PostizClient) -> None:
    post_id = schedule(client, Platform.X, "Hello")

    response = http.get(f"{standin.base_url}/posts/{post_id}", headers={"Authorization": API_KEY})

    assert response.status_code == 404
    assert response.json() == {
        "message": f"Cannot GET /public/v1/posts/{post_id}",
        "error": "Not Found",
        "statusCode": 404,
    }


def test_list_posts_needs_dates(http: httpx.Client, standin: PostizStandin) -> None:
    response = http.get(f"{standin.base_url}/posts", headers={"Authorization": API_KEY})

    assert response.status_code == 400
    assert response.json()["message"] == [
        "startDate must be a valid ISO 8601 date string",
        "endDate must be a valid ISO 8601 date string",
    ]


def test_injected_503_retried_by_get(standin: PostizStandin, client: PostizClient) -> None:
    standin.fail_next(503, {"statusCode": 503, "message": "Service Unavailable"})

    assert len(client.list_integrations()) == 3
    assert [request.path for request in standin.requests] == ["/public/v1/integrations"] * 2


def test_injected_fault_after_requests(standin: PostizStandin, client: PostizClient) -> None:
    standin.fail_next(401, {"msg": "Invalid API key"}, after=1)

    assert client.is_connected() is True
    with pytest.raises(PostizAuthError):
        client.is_connected()
    assert client.is_connected() is True


def test_injected_402_raises(standin: PostizStandin, client: PostizClient) -> None:
    x_id = channel_for(client, Platform.X).id
    standin.fail_next(402, {"statusCode": 402, "message": "Limit reached.", "url": "http://127.0.0.1/billing"})

    with pytest.raises(PostizPlanLimit, match="Postiz plan limit reached: Limit reached. Upgrade the plan at"):
        client.create_post(posts=[NewPost(integration_id=x_id, platform=Platform.X, parts=["Hi"])], date=SEPT_1_1400)
    assert standin.rows == []


def test_injected_delay_times_out(standin: PostizStandin) -> None:
    standin.delay_next(1.0)

    with PostizClient(base_url=standin.base_url, api_key=API_KEY, timeout=0.2) as impatient:
        with pytest.raises(PostizTimeout, match="did not respond within 0.2 s"):
            impatient.is_connected()
