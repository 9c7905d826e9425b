"""The HTTP server: Slack requests, the Postiz webhook and a health check, plus the scheduler."""

from __future__ import annotations

import hmac
import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from slack_bolt import App
from slack_bolt.adapter.starlette.handler import to_bolt_request, to_starlette_response
from slack_sdk.signature import SignatureVerifier
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from borker.errors import BorkerError
from bot.app import build_app
from bot.runtime import Runtime
from bot.scheduler import build_scheduler

log = logging.getLogger(__name__)

MAX_WEBHOOK_BYTES = 1_000_000
# Postiz sends one post per delivery (older versions a digest of an organization's
# posts); far more than that is not a real delivery.
MAX_WEBHOOK_POSTS = 1000


def build_web_app(runtime: Runtime, *, bolt_app: App | None = None, run_scheduler: bool = True) -> Starlette:
    bolt = bolt_app or build_app(runtime)
    webhook_token = runtime.settings.webhook_token.get_secret_value()
    verifier = SignatureVerifier(runtime.settings.slack_signing_secret.get_secret_value())

    async def slack_events(request: Request) -> Response:
        body = await request.body()
        # Bolt parses the body before it checks the signature, so malformed
        # unsigned requests would reach its parser; check the signature first.
        try:
            valid = verifier.is_valid(
                body=body,
                timestamp=request.headers.get("x-slack-request-timestamp", ""),
                signature=request.headers.get("x-slack-signature", ""),
            )
        except ValueError:  # a missing or non-numeric timestamp, or a body that is not UTF-8
            valid = False
        if not valid:
            return PlainTextResponse("invalid request signature", status_code=401)
        try:
            bolt_request = to_bolt_request(request, body)
        except UnicodeDecodeError:
            return PlainTextResponse("the request body is not UTF-8", status_code=400)
        # Bolt's dispatch blocks while it waits for ack(); run it off the event
        # loop so one slow listener cannot stall every other route.
        response = await run_in_threadpool(bolt.dispatch, bolt_request)
        return to_starlette_response(response)

    async def postiz_webhook(request: Request) -> Response:
        # Postiz signs nothing, so the unguessable path token is the only check.
        if not hmac.compare_digest(request.path_params["token"].encode(), webhook_token.encode()):
            return PlainTextResponse("Not Found", status_code=404)
        body = await request.body()
        if len(body) > MAX_WEBHOOK_BYTES:
            return JSONResponse({"error": "payload too large"}, status_code=413)
        try:
            payload = json.loads(body or b"[]")
        except json.JSONDecodeError as exc:
            return JSONResponse({"error": f"invalid JSON: {exc.msg} at position {exc.pos}"}, status_code=400)
        except (UnicodeDecodeError, RecursionError):
            return JSONResponse({"error": "invalid JSON: not UTF-8, or nested too deeply"}, status_code=400)
        if not isinstance(payload, list):
            return JSONResponse({"error": "expected a JSON array of posts"}, status_code=400)
        if len(payload) > MAX_WEBHOOK_POSTS:
            return JSONResponse({"error": f"too many posts: at most {MAX_WEBHOOK_POSTS} per call"}, status_code=413)
        try:
            report = await run_in_threadpool(runtime.workflows.handle_postiz_webhook, payload)
        except BorkerError as exc:
            # Postiz never retries a webhook; the reconcile job will catch up.
            log.warning("Postiz webhook received but confirmation failed: %s", exc)
            return JSONResponse({"ok": True, "deferred": True})
        return JSONResponse({"ok": True, "published": report.published, "failed": report.failed})

    async def healthz(request: Request) -> Response:
        return JSONResponse({"ok": True})

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        scheduler = build_scheduler(runtime) if run_scheduler else None
        if scheduler is not None:
            scheduler.start()
            log.info("scheduler started")
        try:
            yield
        finally:
            if scheduler is not None:
                scheduler.shutdown(wait=False)
                log.info("scheduler stopped")

    return Starlette(
        routes=[
            Route("/slack/events", slack_events, methods=["POST"]),
            Route("/webhooks/postiz/{token}", postiz_webhook, methods=["POST"]),
            Route("/healthz", healthz, methods=["GET"]),
        ],
        lifespan=lifespan,
    )
