"""The ``borker`` command: serve, demo and migrate."""

from __future__ import annotations

import argparse
import logging
import sys

from borker.config import load_settings
from borker.errors import ConfigurationError

log = logging.getLogger("borker")


def configure_logging(level: str) -> None:
    logging.basicConfig(
        level=getattr(logging, level.upper(), logging.INFO),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    # httpx logs every request URL and Alembic every plugin at INFO; Borker logs
    # its own events about them.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("alembic").setLevel(logging.WARNING)


def serve(args: argparse.Namespace) -> int:
    import uvicorn

    from bot.runtime import build_runtime
    from bot.server import build_web_app

    settings = load_settings()
    runtime = build_runtime(settings)
    try:
        # One worker: the scheduler runs in this process, and more workers would duplicate it.
        uvicorn.run(build_web_app(runtime), host=args.host, port=settings.port, workers=1, log_level=args.log_level)
    finally:
        runtime.close()
    return 0


def migrate_command(args: argparse.Namespace) -> int:
    from borker.db import create_db_engine, migrate

    settings = load_settings()
    engine = create_db_engine(settings.database_url)
    migrate(engine)
    engine.dispose()
    print("Database schema is up to date.")
    return 0


def demo(args: argparse.Namespace) -> int:
    from bot.demo import run_demo

    return run_demo(verbose=args.verbose)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="borker", description="Borker: LLM drafts, approved in Slack, published through Postiz.")
    parser.add_argument("--log-level", default="info", help="Logging level: debug, info, warning or error (default info).")
    commands = parser.add_subparsers(dest="command", required=True)

    serve_parser = commands.add_parser("serve", help="Run the HTTP server and the scheduler.")
    serve_parser.add_argument("--host", default="0.0.0.0", help="Interface to listen on (default 0.0.0.0); the port comes from PORT.")
    serve_parser.set_defaults(handler=serve)

    demo_parser = commands.add_parser("demo", help="Run the whole approval loop against local stand-ins and exit.")
    demo_parser.add_argument("--verbose", action="store_true", help="Show Borker's own log lines too.")
    demo_parser.set_defaults(handler=demo)

    migrate_parser = commands.add_parser("migrate", help="Apply database migrations and exit.")
    migrate_parser.set_defaults(handler=migrate_command)

    args = parser.parse_args(argv)
    if args.command != "demo":
        configure_logging(args.log_level)
    try:
        return int(args.handler(args))
    except ConfigurationError as exc:
        print(f"borker: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
