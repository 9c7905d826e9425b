"""PostizClient against respx: request shapes, Postiz's odd responses and error mapping."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

import httpx
import pytest
import respx

from borker.models import Platform
from borker.postiz import (
    CreatedPost,
    Integration,
    NewPost,
    NoConnectedChannel,
    PostizAuthError,
    PostizClient,
    PostizError,
    PostizNotFound,
    PostizPlanLimit,
    PostizPost,
    PostizRateLimited,
    PostizTimeout,
    PostizUnavailable,
    PostizValidationError,
    RateLimitState,
    find_integration,
    preview_url,
)

BASE_URL = "https://postiz.test/api/public/v1"
API_KEY = "secret-postiz-key"
SEPT_1_1400 = datetime(2026, 9, 1, 14, 0, tzinfo=timezone.utc)


@pytest.fixture
def api() -> Iterator[respx.MockRouter]:
    with respx.mock(base_url=BASE_URL, assert_all_called=False) as router:
        yield router


@pytest.fixture
def client(api: respx.MockRouter) -> Iterator[PostizClient]:
    with PostizClient(base_url=BASE_URL, api_key=API_KEY) as postiz:
        yield postiz


def sent_json(route: respx.Route, index: int = -1) -> object:
    return json.loads(route.calls[index].request.content)


def channel(identifier: str, name: str = "Acme", *, disabled: bool = False, id: str = "c1") -> Integration:
    return Integration(id=id, name=name, identifier=identifier, disabled=disabled, profile=None)


# Requests


def test_authorization_header_is_bare_key(api: respx.MockRouter, client: PostizClient) -> None:
    route = api.get("/is-connected").respond(200, json={"connected": True})

    assert client.is_connected() is True
    assert route.calls.last.request.headers["Authorization"] == API_KEY


def test_is_connected_false_without_flag(api: respx.MockRouter, client: PostizClient) -> None:
    api.get("/is-connected").respond(200, json={})

    assert client.is_connected() is False


def test_repr_hides_api_key(client: PostizClient) -> None:
    assert API_KEY not in repr(client)
    assert BASE_URL in repr(client)


def test_list_integrations_parses_channels(api: respx.MockRouter, client: PostizClient) -> None:
    api.get("/integrations").respond(
        200,
        json=[
            {"id": "c1", "name": "Acme on X", "identifier": "x", "picture": None, "disabled": False, "profile": "acme"},
            {
                "id": "c2",
                "name": "Acme Page",
                "identifier": "linkedin-page",
                "disabled": True,
                "profile": None,
                "customer": {"id": "u1", "name": "Acme"},
            },
            {"id": "c3", "name": "Cast", "identifier": "wrapcast"},
        ],
    )

    integrations = client.list_integrations()

    assert integrations == [
        Integration(id="c1", name="Acme on X", identifier="x", disabled=False, profile="acme"),
        Integration(id="c2", name="Acme Page", identifier="linkedin-page", disabled=True, profile=None),
        Integration(id="c3", name="Cast", identifier="wrapcast", disabled=False, profile=None),
    ]


@pytest.mark.parametrize(
    ("identifier", "platform"),
    [
        ("x", Platform.X),
        ("linkedin", Platform.LINKEDIN),
        ("linkedin-page", Platform.LINKEDIN),
        ("wrapcast", Platform.FARCASTER),
        ("warpcast", Platform.FARCASTER),
        ("bluesky", None),
        ("", None),
    ],
)
def test_integration_platform_by_identifier(identifier: str, platform: Platform | None) -> None:
    assert channel(identifier).platform is platform


def test_create_post_x_thread_body(api: respx.MockRouter, client: PostizClient) -> None:
    route = api.post("/posts").respond(201, json=[{"postId": "p1", "integration": "c1"}])
    local_time = datetime(2026, 9, 1, 16, 0, tzinfo=timezone(timedelta(hours=2)))

    client.create_post(
        posts=[NewPost(integration_id="c1", platform=Platform.X, parts=["Main", "Reply 1", "Reply 2"], post_id="p1")],
        date=local_time,
    )

    request = route.calls.last.request
    assert request.headers["Authorization"] == API_KEY
    assert request.headers["Content-Type"] == "application/json"
    assert sent_json(route) == {
        "type": "schedule",
        "date": "2026-09-01T14:00:00.000Z",
        "shortLink": False,
        "tags": [],
        "posts": [
            {
                "integration": {"id": "c1"},
                "value": [
                    {"content": "Main", "image": [], "id": "p1"},
                    {"content": "Reply 1", "image": []},
                    {"content": "Reply 2", "image": []},
                ],
                "settings": {"__type": "x", "who_can_reply_post": "everyone"},
            }
        ],
    }


def test_create_post_several_channels_one_request(api: respx.MockRouter, client: PostizClient) -> None:
    route = api.post("/posts").respond(
        201, json=[{"postId": "p1", "integration": "c2"}, {"postId": "p2", "integration": "c3"}]
    )

    created = client.create_post(
        posts=[
            NewPost(integration_id="c2", platform=Platform.LINKEDIN, parts=["On LinkedIn"]),
            NewPost(integration_id="c3", platform=Platform.FARCASTER, parts=["On Farcaster"]),
        ],
        date=SEPT_1_1400 + timedelta(milliseconds=250),
        post_type="draft",
    )

    assert route.call_count == 1
    body = sent_json(route)
    assert body["type"] == "draft"
    assert body["date"] == "2026-09-01T14:00:00.250Z"
    assert body["posts"][0]["settings"] == {"__type": "linkedin"}
    assert body["posts"][1]["settings"] == {"__type": "wrapcast"}
    assert body["posts"][0]["value"] == [{"content": "On LinkedIn", "image": []}]
    assert created == [CreatedPost(post_id="p1", integration_id="c2"), CreatedPost(post_id="p2", integration_id="c3")]


def test_create_post_stores_rate_limit_headers(api: respx.MockRouter, client: PostizClient) -> None:
    api.post("/posts").respond(
        201,
        json=[{"postId": "p1", "integration": "c1"}],
        headers={"X-RateLimit-Limit": "30", "X-RateLimit-Remaining": "27", "X-RateLimit-Reset": "1800"},
    )

    client.create_post(posts=[NewPost(integration_id="c1", platform=Platform.X, parts=["Hi"])], date=SEPT_1_1400)

    assert client.rate_limit == RateLimitState(limit=30, remaining=27, reset_seconds=1800)


def test_create_post_without_rate_limit_headers(api: respx.MockRouter, client: PostizClient) -> None:
    api.post("/posts").respond(201, json=[{"postId": "p1", "integration": "c1"}])

    client.create_post(posts=[NewPost(integration_id="c1", platform=Platform.X, parts=["Hi"])], date=SEPT_1_1400)

    assert client.rate_limit == RateLimitState(limit=None, remaining=None, reset_seconds=None)


def test_create_post_rejects_naive_date(api: respx.MockRouter, client: PostizClient) -> None:
    route = api.post("/posts").respond(201, json=[])

    with pytest.raises(ValueError, match="has no time zone"):
        client.create_post(
            posts=[NewPost(integration_id="c1", platform=Platform.X, parts=["Hi"])],
            date=datetime(2026, 9, 1, 14, 0),
        )
    assert route.call_count == 0


def test_create_post_rejects_empty_input(client: PostizClient) -> None:
    with pytest.raises(ValueError, match="posts is empty"):
        client.create_post(posts=[], date=SEPT_1_1400)
    with pytest.raises(ValueError, match="has no parts"):
        client.create_post(posts=[NewPost(integration_id="c1", platform=Platform.X, parts=[])], date=SEPT_1_1400)


def test_create_post_unexpected_body(api: respx.MockRouter, client: PostizClient) -> None:
    api.post("/posts").respond(201, json={"id": "p1", "group": "g1"})

    with pytest.raises(PostizError, match="unexpected body"):
        client.create_post(posts=[NewPost(integration_id="c1", platform=Platform.X, parts=["Hi"])], date=SEPT_1_1400)


def test_list_posts_query_and_fields(api: respx.MockRouter, client: PostizClient) -> None:
    route = api.get("/posts").respond(
        200,
        json={
            "posts": [
                {
                    "id": "p1",
                    "content": "Hello",
                    "publishDate": "2026-09-01T14:00:00.000Z",
                    "releaseURL": "https://twitter.com/acme/status/1",
                    "releaseId": "1",
                    "state": "PUBLISHED",
                    "group": "g1",
                    "settings": "{\"__type\":\"x\"}",
                    "integration": {"id": "c1", "providerIdentifier": "x", "name": "Acme", "picture": None},
                },
                {"id": "p2", "publishDate": "2026-09-02T08:30:00.000Z"},
                {"id": "p3"},
                {"id": "p4", "publishDate": "not a date"},
            ]
        },
    )

    posts = client.list_posts(start=SEPT_1_1400 - timedelta(days=1), end=SEPT_1_1400 + timedelta(days=1))

    params = route.calls.last.request.url.params
    assert params["startDate"] == "2026-08-31T14:00:00.000Z"
    assert params["endDate"] == "2026-09-02T14:00:00.000Z"
    assert posts == [
        PostizPost(
            id="p1",
            content="Hello",
            publish_date=SEPT_1_1400,
            state="PUBLISHED",
            release_url="https://twitter.com/acme/status/1",
            release_id="1",
            group="g1",
            integration_id="c1",
            provider="x",
        ),
        PostizPost(
            id="p2",
            content="",
            publish_date=datetime(2026, 9, 2, 8, 30, tzinfo=timezone.utc),
            state="",
            release_url=None,
            release_id=None,
            group=None,
            integration_id="",
            provider="",
        ),
    ]
    assert posts[0].publish_date.tzinfo is timezone.utc


def test_list_posts_rejects_naive_window(client: PostizClient) -> None:
    with pytest.raises(ValueError, match="has no time zone"):
        client.list_posts(start=datetime(2026, 9, 1), end=SEPT_1_1400)


def test_find_slot_reads_offsetless_utc(api: respx.MockRouter, client: PostizClient) -> None:
    api.get("/find-slot/c1").respond(200, json={"date": "2026-05-04T11:40:00"})

    assert client.find_slot(integration_id="c1") == datetime(2026, 5, 4, 11, 40, tzinfo=timezone.utc)


def test_set_post_status_returns_state(api: respx.MockRouter, client: PostizClient) -> None:
    route = api.put("/posts/p1/status").respond(200, json={"id": "p1", "state": "DRAFT"})

    assert client.set_post_status(post_id="p1", status="draft") == "DRAFT"
    assert sent_json(route) == {"status": "draft"}


# Deletes


def test_delete_error_true_is_success(api: respx.MockRouter, client: PostizClient) -> None:
    route = api.delete("/posts/p1").respond(200, json={"error": True})

    client.delete_post(post_id="p1")

    assert route.call_count == 1


def test_delete_group_calls_group_route(api: respx.MockRouter, client: PostizClient) -> None:
    route = api.delete("/posts/group/g-1").respond(200, json={"error": True})

    client.delete_group(group="g-1")

    assert route.call_count == 1


def test_delete_500_confirmed_gone(api: respx.MockRouter, client: PostizClient) -> None:
    api.delete("/posts/p1").respond(500, json={"statusCode": 500, "message": "Internal server error"})
    listing = api.get("/posts").respond(200, json={"posts": [{"id": "other", "publishDate": "2026-09-01T14:00:00.000Z"}]})

    client.delete_post(post_id="p1", published_around=SEPT_1_1400)

    params = listing.calls.last.request.url.params
    assert params["startDate"] == "2026-08-30T14:00:00.000Z"
    assert params["endDate"] == "2026-09-03T14:00:00.000Z"


def test_delete_500_still_listed(api: respx.MockRouter, client: PostizClient) -> None:
    api.delete("/posts/p1").respond(500, json={"statusCode": 500, "message": "Internal server error"})
    api.get("/posts").respond(200, json={"posts": [{"id": "p1", "publishDate": "2026-09-01T14:00:00.000Z"}]})

    with pytest.raises(PostizUnavailable) as caught:
        client.delete_post(post_id="p1", published_around=SEPT_1_1400)

    assert caught.value.status == 500
    assert str(caught.value) == (
        f"Postiz failed to delete post p1 (HTTP 500 at {BASE_URL}/posts/p1) and still lists it: "
        "try again later or delete it in Postiz → Calendar"
    )


def test_delete_500_without_date(api: respx.MockRouter, client: PostizClient) -> None:
    api.delete("/posts/p1").respond(500, json={"statusCode": 500, "message": "Internal server error"})
    listing = api.get("/posts").respond(200, json={"posts": []})

    with pytest.raises(PostizUnavailable, match="unknown or already deleted"):
        client.delete_post(post_id="p1")
    assert listing.call_count == 0


# Errors


def test_401_raises_auth_error(api: respx.MockRouter, client: PostizClient) -> None:
    api.get("/integrations").respond(401, json={"msg": "Invalid API key"})

    with pytest.raises(PostizAuthError) as caught:
        client.list_integrations()

    assert str(caught.value) == "Postiz API key invalid: regenerate it in Postiz → Settings and update it in Borker"
    assert caught.value.status == 401
    assert caught.value.payload == {"msg": "Invalid API key"}


def test_401_empty_body_raises_auth_error(api: respx.MockRouter, client: PostizClient) -> None:
    api.get("/is-connected").respond(401)

    with pytest.raises(PostizAuthError) as caught:
        client.is_connected()

    assert caught.value.payload is None


@pytest.mark.parametrize(
    ("retry_after", "seconds", "wait"),
    [
        ("120", 120, "2 minutes"),
        ("45", 45, "45 seconds"),
        ("1", 1, "1 second"),
        (None, 3600, "60 minutes"),
        ("soon", 3600, "60 minutes"),
    ],
)
def test_429_reads_retry_after(
    api: respx.MockRouter, client: PostizClient, retry_after: str | None, seconds: int, wait: str
) -> None:
    headers = {"Retry-After": retry_after} if retry_after is not None else {}
    api.post("/posts").respond(
        429, json={"statusCode": 429, "message": "ThrottlerException: Too Many Requests"}, headers=headers
    )

    with pytest.raises(PostizRateLimited) as caught:
        client.create_post(posts=[NewPost(integration_id="c1", platform=Platform.X, parts=["Hi"])], date=SEPT_1_1400)

    assert caught.value.retry_after == seconds
    assert caught.value.status == 429
    assert str(caught.value) == f"Postiz's rate limit for creating posts was reached: retry in {wait}"


def test_429_http_date_retry_after(api: respx.MockRouter, client: PostizClient) -> None:
    later = datetime.now(timezone.utc) + timedelta(minutes=10)
    api.post("/posts").respond(429, headers={"Retry-After": later.strftime("%a, %d %b %Y %H:%M:%S GMT")})

    with pytest.raises(PostizRateLimited) as caught:
        client.create_post(posts=[NewPost(integration_id="c1", platform=Platform.X, parts=["Hi"])], date=SEPT_1_1400)

    assert 590 <= caught.value.retry_after <= 600


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (
            {"statusCode": 400, "message": "Integration with id c9 not found", "error": "Bad Request"},
            "Postiz rejected the post: Integration with id c9 not found",
        ),
        (
            {
                "statusCode": 400,
                "message": ["shortLink should not be null or undefined", "tags must be an array"],
                "error": "Bad Request",
            },
            "Postiz rejected the post: shortLink should not be null or undefined; tags must be an array",
        ),
        (
            {"statusCode": 400, "provider": "x", "name": "Acme", "message": "post is too long, please fix it"},
            'Postiz rejected the post for X channel "Acme": post is too long, please fix it',
        ),
        (
            {"statusCode": 400, "provider": "wrapcast", "name": "Cast", "message": "Can only accept images"},
            'Postiz rejected the post for Farcaster channel "Cast": Can only accept images',
        ),
        (
            {"statusCode": 400, "provider": "bluesky", "name": "Sky", "message": "post is too long, please fix it"},
            'Postiz rejected the post for bluesky channel "Sky": post is too long, please fix it',
        ),
        ({"msg": "No file provided"}, "Postiz rejected the post: No file provided"),
    ],
)
def test_400_raises_validation_error(
    api: respx.MockRouter, client: PostizClient, payload: dict[str, object], message: str
) -> None:
    api.post("/posts").respond(400, json=payload)

    with pytest.raises(PostizValidationError) as caught:
        client.create_post(posts=[NewPost(integration_id="c1", platform=Platform.X, parts=["Hi"])], date=SEPT_1_1400)

    assert str(caught.value) == message
    assert caught.value.status == 400
    assert caught.value.payload == payload


def test_400_names_channel_fields(api: respx.MockRouter, client: PostizClient) -> None:
    api.post("/posts").respond(
        400, json={"statusCode": 400, "provider": "x", "name": "Acme", "message": "post is too long, please fix it"}
    )

    with pytest.raises(PostizValidationError) as caught:
        client.create_post(posts=[NewPost(integration_id="c1", platform=Platform.X, parts=["Hi"])], date=SEPT_1_1400)

    assert caught.value.provider == "x"
    assert caught.value.channel == "Acme"


def test_400_outside_create_names_route(api: respx.MockRouter, client: PostizClient) -> None:
    api.put("/posts/p9/status").respond(400, json={"statusCode": 400, "message": "Post not found", "error": "Bad Request"})

    with pytest.raises(PostizValidationError) as caught:
        client.set_post_status(post_id="p9", status="schedule")

    assert str(caught.value) == "Postiz rejected PUT /posts/p9/status: Post not found"


def test_402_raises_plan_limit(api: respx.MockRouter, client: PostizClient) -> None:
    api.post("/posts").respond(
        402,
        json={
            "statusCode": 402,
            "message": "You have reached the maximum number of posts for your subscription.",
            "url": "https://platform.postiz.com/billing",
        },
    )

    with pytest.raises(PostizPlanLimit) as caught:
        client.create_post(posts=[NewPost(integration_id="c1", platform=Platform.X, parts=["Hi"])], date=SEPT_1_1400)

    assert str(caught.value) == (
        "Postiz plan limit reached: You have reached the maximum number of posts for your subscription. "
        "Upgrade the plan at https://platform.postiz.com/billing"
    )
    assert caught.value.status == 402


def test_404_hints_at_api_prefix(api: respx.MockRouter, client: PostizClient) -> None:
    api.get("/integrations").respond(
        404, json={"message": "Cannot GET /public/v1/integrations", "error": "Not Found", "statusCode": 404}
    )

    with pytest.raises(PostizNotFound) as caught:
        client.list_integrations()

    assert str(caught.value) == (
        f"Postiz has no API route at GET {BASE_URL}/integrations (HTTP 404): check POSTIZ_API_URL. "
        "Self-hosted Postiz usually serves the API under https://<host>/api/public/v1"
    )
    assert API_KEY not in str(caught.value)


def test_500_raises_unavailable(api: respx.MockRouter, client: PostizClient) -> None:
    route = api.get("/integrations").respond(500, json={"statusCode": 500, "message": "Internal server error"})

    with pytest.raises(PostizUnavailable) as caught:
        client.list_integrations()

    assert str(caught.value) == (
        f"Postiz failed with HTTP 500 at GET {BASE_URL}/integrations: check that Postiz is running and try again later"
    )
    assert route.call_count == 1


def test_other_4xx_raises_postiz_error(api: respx.MockRouter, client: PostizClient) -> None:
    api.post("/posts").respond(413, text="request entity too large")

    with pytest.raises(PostizError) as caught:
        client.create_post(posts=[NewPost(integration_id="c1", platform=Platform.X, parts=["Hi"])], date=SEPT_1_1400)

    assert type(caught.value) is PostizError
    assert str(caught.value) == f"Postiz rejected POST {BASE_URL}/posts with HTTP 413: request entity too large"


def test_timeout_raises_postiz_timeout(api: respx.MockRouter, client: PostizClient) -> None:
    route = api.get("/integrations").mock(side_effect=httpx.ReadTimeout("timed out"))

    with pytest.raises(PostizTimeout) as caught:
        client.list_integrations()

    assert str(caught.value) == (
        f"Postiz did not respond within 15 s at {BASE_URL}: check POSTIZ_API_URL and that Postiz is running"
    )
    assert route.call_count == 1


def test_connection_error_raises_unavailable(api: respx.MockRouter, client: PostizClient) -> None:
    route = api.get("/integrations").mock(side_effect=httpx.ConnectError("connection refused"))

    with pytest.raises(PostizUnavailable) as caught:
        client.list_integrations()

    assert str(caught.value) == (
        f"Could not connect to Postiz at {BASE_URL} (ConnectError): check POSTIZ_API_URL and that Postiz is running"
    )
    assert route.call_count == 2


# Retries


def test_get_retried_once_on_503(
    api: respx.MockRouter, client: PostizClient, caplog: pytest.LogCaptureFixture
) -> None:
    route = api.get("/integrations")
    route.side_effect = [httpx.Response(503), httpx.Response(200, json=[])]

    with caplog.at_level(logging.WARNING, logger="borker.postiz"):
        assert client.list_integrations() == []

    assert route.call_count == 2
    assert "/integrations" in caplog.text
    assert "retrying once" in caplog.text


def test_get_retried_only_once(api: respx.MockRouter, client: PostizClient) -> None:
    route = api.get("/integrations").respond(502)

    with pytest.raises(PostizUnavailable):
        client.list_integrations()

    assert route.call_count == 2


def test_get_not_retried_on_long_retry_after(api: respx.MockRouter, client: PostizClient) -> None:
    route = api.get("/integrations").respond(503, headers={"Retry-After": "600"})

    with pytest.raises(PostizUnavailable):
        client.list_integrations()

    assert route.call_count == 1


def test_post_not_retried_on_503(api: respx.MockRouter, client: PostizClient) -> None:
    route = api.post("/posts").respond(503)

    with pytest.raises(PostizUnavailable):
        client.create_post(posts=[NewPost(integration_id="c1", platform=Platform.X, parts=["Hi"])], date=SEPT_1_1400)

    assert route.call_count == 1


def test_post_not_retried_on_connect_error(api: respx.MockRouter, client: PostizClient) -> None:
    route = api.post("/posts").mock(side_effect=httpx.ConnectError("connection refused"))

    with pytest.raises(PostizUnavailable):
        client.create_post(posts=[NewPost(integration_id="c1", platform=Platform.X, parts=["Hi"])], date=SEPT_1_1400)

    assert route.call_count == 1


def test_get_not_retried_on_4xx(api: respx.MockRouter, client: PostizClient) -> None:
    route = api.get("/posts").respond(400, json={"statusCode": 400, "message": ["startDate must be a valid ISO 8601 date string"]})

    with pytest.raises(PostizValidationError):
        client.list_posts(start=SEPT_1_1400, end=SEPT_1_1400)

    assert route.call_count == 1


# Channels and links


def test_find_integration_picks_first_enabled() -> None:
    integrations = [
        channel("x", "Zeta", id="c3"),
        channel("linkedin", "Acme", id="c0"),
        channel("x", "Beta", id="c2", disabled=True),
        channel("x", "Alpha", id="c9"),
        channel("x", "Alpha", id="c1"),
    ]

    assert find_integration(integrations, Platform.X).id == "c1"
    assert find_integration(integrations, Platform.LINKEDIN).id == "c0"


def test_find_integration_without_channel() -> None:
    with pytest.raises(NoConnectedChannel) as caught:
        find_integration([channel("linkedin")], Platform.X)

    assert str(caught.value) == "No X account connected in Postiz: connect it in Postiz → Channels"
    assert caught.value.platform is Platform.X
    assert isinstance(caught.value, PostizError)


def test_find_integration_only_disabled() -> None:
    integrations = [channel("wrapcast", "Acme casts", disabled=True), channel("warpcast", "Old casts", disabled=True)]

    with pytest.raises(NoConnectedChannel) as caught:
        find_integration(integrations, Platform.FARCASTER)

    assert str(caught.value) == (
        'The Farcaster channel "Acme casts" is disabled in Postiz: enable or reconnect it in Postiz → Channels'
    )


def test_preview_url_format() -> None:
    assert preview_url("https://postiz.example.com/", "cabc123") == "https://postiz.example.com/p/cabc123?share=true"
    assert preview_url("https://platform.postiz.com", "cabc123") == "https://platform.postiz.com/p/cabc123?share=true"
