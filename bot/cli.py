"""The ``borker`` command: serve, demo and migrate."""

from __future__ import annotations

import argparse
import logging
import sys

from borker.config import database_url_from_env, load_settings
from borker.errors import BorkerError, ConfigurationError

log = logging.getLogger("borker")

MAX_WORKSPACE_FILE_BYTES = 2_000_000


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
        # The access log is off because the webhook URL contains its secret token.
        uvicorn.run(
            build_web_app(runtime), host=args.host, port=settings.port, workers=1,
            log_level=args.log_level, access_log=False,
        )
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


def workspace_import(args: argparse.Namespace) -> int:
    from borker.db import create_db_engine, migrate, session_factory, unit_of_work
    from borker.workspace import parse_workspace_yaml, save_workspace

    raw = sys.stdin.buffer.read(MAX_WORKSPACE_FILE_BYTES + 1) if args.file == "-" else _read_file(args.file)
    if len(raw) > MAX_WORKSPACE_FILE_BYTES:
        raise ConfigurationError(
            f"{args.file} is larger than {MAX_WORKSPACE_FILE_BYTES:,} bytes: a workspace file is a few kilobytes, "
            "so check that this is the right file."
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigurationError(
            f"{args.file} is not UTF-8 text (invalid byte 0x{raw[exc.start]:02x} at position {exc.start}): "
            "save it as UTF-8 and import it again."
        ) from None
    config = parse_workspace_yaml(text)
    engine = create_db_engine(database_url_from_env())
    try:
        migrate(engine)
        with unit_of_work(session_factory(engine)) as session:
            save_workspace(session, config, actor="cli")
    finally:
        engine.dispose()
    pools = len(config.topic_pools)
    topics = sum(len(pool.topics) for pool in config.topic_pools)
    print(
        f"Imported the workspace configuration: {pools} topic pools, {topics} topics, "
        f"{len(config.calendar.slots)} calendar slots."
    )
    return 0


def _read_file(path: str) -> bytes:
    try:
        with open(path, "rb") as handle:
            return handle.read(MAX_WORKSPACE_FILE_BYTES + 1)
    except OSError as exc:
        raise ConfigurationError(f"Cannot read {path}: {exc.strerror}.") from None


def workspace_export(args: argparse.Namespace) -> int:
    from borker.db import create_db_engine, migrate, session_factory, unit_of_work
    from borker.workspace import dump_workspace_yaml, load_workspace

    engine = create_db_engine(database_url_from_env())
    try:
        migrate(engine)
        with unit_of_work(session_factory(engine)) as session:
            config = load_workspace(session)
    finally:
        engine.dispose()
    sys.stdout.write(dump_workspace_yaml(config))
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

    workspace_parser = commands.add_parser("workspace", help="Import or export the workspace configuration (YAML).")
    workspace_commands = workspace_parser.add_subparsers(dest="workspace_command", required=True)
    import_parser = workspace_commands.add_parser(
        "import", help="Validate a YAML file and store it as the workspace configuration; nothing is stored if it is invalid."
    )
    import_parser.add_argument("file", help="The YAML file, or - for standard input.")
    import_parser.set_defaults(handler=workspace_import)
    export_parser = workspace_commands.add_parser("export", help="Print the stored workspace configuration as YAML.")
    export_parser.set_defaults(handler=workspace_export)

    args = parser.parse_args(argv)
    if args.command == "workspace":
        # Keep standard output clean for `workspace export > file.yml`.
        configure_logging("warning")
    elif args.command != "demo":
        configure_logging(args.log_level)
    try:
        return int(args.handler(args))
    except BorkerError as exc:
        print(f"borker: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
