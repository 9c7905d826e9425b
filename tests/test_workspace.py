"""Workspace configuration files: validation with paths, all-or-nothing import, export."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from borker.workspace import InvalidWorkspaceConfig, parse_workspace_yaml

EXAMPLE = Path(__file__).parent.parent / "examples" / "workspace.yml"


def borker(*args: str, database_url: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        env={"BORKER_DATABASE_URL": database_url, "PATH": "/usr/bin:/bin"},
        input=stdin, capture_output=True, text=True, timeout=60,
    )


def problems_of(text: str) -> list[str]:
    with pytest.raises(InvalidWorkspaceConfig) as error:
        parse_workspace_yaml(text)
    return error.value.problems


def test_example_file_is_valid() -> None:
    config = parse_workspace_yaml(EXAMPLE.read_text())
    assert config.brand.name == "Acme Analytics"
    assert config.brand.voice_for("linkedin").formality == 3
    assert config.brand.voice_for("x").formality == 2
    assert config.topic_pools[1].topics[0].engagement == 8
    assert len(config.calendar.slots) == 5


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("topic_pools:\n  - name: P\n    topics:\n      - {title: a}\n      - {title: b}\n      - {title: c, engagement: 11}\n",
         "topic_pools[0].topics[2].engagement: must be 1–10, got 11"),
        ("brand:\n  voice: {formality: 0}\n", "brand.voice.formality: must be 1–5, got 0"),
        ("brand:\n  colour: blue\n", "brand.colour: unknown key; check its spelling or remove it"),
        ("auto_approval: maybe\n", "auto_approval: input should be a valid boolean, got 'maybe'"),
        ("daily_run_time: 10:00\n", 'daily_run_time: must be text; put it in quotes, e.g. "09:30"'),
        ("calendar:\n  slots:\n    - {weekday: mon, platform: x, content_type: linkedin-post}\n",
         "calendar.slots[0]: content type linkedin-post does not belong to platform x: use x-post or x-thread"),
        ("calendar:\n  slots:\n    - {weekday: funday, platform: x, content_type: x-post}\n",
         "calendar.slots[0].weekday: must be one of 'mon', 'tue', 'wed', 'thu', 'fri', 'sat' or 'sun', got 'funday'"),
        ("scheduling:\n  grid_minutes: 10\n", "scheduling.grid_minutes: must be one of 5 or 15, got 10"),
        ("scheduling:\n  windows: ['18:00-09:00']\n",
         "scheduling.windows[0]: invalid window '18:00-09:00': the end must be after the start"),
        ("timezone: Mars/Base\n", "timezone: unknown time zone 'Mars/Base': use an IANA name such as Europe/Berlin"),
        ("", "the file is empty: export the current configuration with `borker workspace export` and edit that"),
        ("scheduling:\n  windows: ['08:01-08:04']\n",
         "scheduling: the posting windows 08:01-08:04 contain no time on the 15-minute grid: widen them"),
        ("scheduling:\n  days: []\n", "scheduling.days: no posting days: list at least one, e.g. [mon, wed, fri]"),
        ("scheduling:\n  windows: ['20:00-00:00', '9:5-10:00']\n",
         "scheduling.windows[1]: invalid time '9:5': use HH:MM from 00:00 to 23:59, e.g. 09:30"),
        ("topic_pools:\n  - {name: A}\n  - {name: A}\n", "topic_pools: pool names must be unique; repeated: 'A'"),
        ("calendar:\n  slots:\n    - {weekday: mon, platform: x, content_type: x-post, pool: Nope}\n",
         "calendar.slots[0].pool: no topic pool named 'Nope' (pools: none defined)"),
        ("timezone: localtime\n", "timezone: unknown time zone 'localtime': use an IANA name such as Europe/Berlin"),
        ("brand:\n  name: " + "x" * 300 + "\n", "brand.name: must be at most 200 characters, got 300"),
        ("- just\n- a list\n", "the file must contain a mapping of settings, e.g. `brand:` and `topic_pools:`"),
    ],
)
def test_invalid_file_names_path(text: str, expected: str) -> None:
    assert expected in problems_of(text)


def test_every_problem_is_listed() -> None:
    problems = problems_of("brand:\n  colour: blue\n  voice: {brevity: 9}\nscheduling:\n  lead_minutes: -1\n")
    assert len(problems) == 3


def test_yaml_syntax_error_names_line() -> None:
    problems = problems_of("brand:\n  name: [unclosed\n")
    assert problems[0].startswith("not valid YAML at line")


def test_import_export_round_trip(database_url: str) -> None:
    imported = borker("workspace", "import", str(EXAMPLE), database_url=database_url)
    assert imported.returncode == 0, imported.stderr
    assert "2 topic pools, 2 topics, 5 calendar slots" in imported.stdout

    exported = borker("workspace", "export", database_url=database_url)
    assert exported.returncode == 0, exported.stderr
    assert parse_workspace_yaml(exported.stdout) == parse_workspace_yaml(EXAMPLE.read_text())


def test_invalid_import_keeps_previous(database_url: str) -> None:
    assert borker("workspace", "import", str(EXAMPLE), database_url=database_url).returncode == 0
    bad = EXAMPLE.read_text().replace("engagement: 8", "engagement: 80")
    rejected = borker("workspace", "import", "-", database_url=database_url, stdin=bad)
    assert rejected.returncode == 2
    assert "topic_pools[1].topics[0].engagement: must be 1–10, got 80" in rejected.stderr
    assert "nothing was imported" in rejected.stderr

    exported = borker("workspace", "export", database_url=database_url)
    assert parse_workspace_yaml(exported.stdout).topic_pools[1].topics[0].engagement == 8
