"""The kit's shared target pieces: config files and checks, --about rendering, the command line."""

from __future__ import annotations

import json
import subprocess
import sys
import typing as t
from pathlib import Path

import pytest

KIT = Path(__file__).resolve().parents[1]
PACKAGE = "dativo_connector_kit"

SCHEMA: dict[str, t.Any] = {
    "type": "object",
    "properties": {
        "path": {"type": "string", "minLength": 1, "description": "Where."},
        "size": {
            "type": ["number", "null"],
            "exclusiveMinimum": 0,
            "default": None,
            "description": "How big.",
        },
        "rows": {"type": "integer", "minimum": 1, "default": 10, "description": "How many."},
        "codec": {
            "type": "string",
            "enum": ["none", "gzip"],
            "default": "none",
            "description": "How packed.",
        },
    },
    "required": ["path"],
    "additionalProperties": False,
}


@pytest.fixture
def kit() -> t.Iterator[t.Any]:
    """The kit imported from this folder, not a copy installed in the test venv."""
    saved = {name: module for name, module in sys.modules.items() if name.startswith(PACKAGE)}
    for name in saved:
        del sys.modules[name]
    sys.path.insert(0, str(KIT))
    try:
        import dativo_connector_kit.about
        import dativo_connector_kit.settings
        import dativo_connector_kit.target_cli

        assert Path(dativo_connector_kit.__file__).is_relative_to(KIT)
        yield dativo_connector_kit
    finally:
        sys.path.remove(str(KIT))
        for name in [name for name in sys.modules if name.startswith(PACKAGE)]:
            del sys.modules[name]
        sys.modules.update(saved)


def test_config_files_merge_in_order_later_keys_winning(kit: t.Any, tmp_path: Path) -> None:
    first, second = tmp_path / "a.json", tmp_path / "b.json"
    first.write_text(json.dumps({"path": "/a", "rows": 5}))
    second.write_text(json.dumps({"rows": 7}))
    config = kit.settings.read_config([first, second])
    assert config == {"path": "/a", "rows": 7}
    assert kit.settings.with_defaults(config, SCHEMA) == {
        "path": "/a",
        "size": None,
        "rows": 7,
        "codec": "none",
    }


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "cannot read config file"),
        ("{", "is not valid JSON"),
        ("[1]", "must hold a JSON object"),
    ],
)
def test_unusable_config_file_is_a_configuration_error(
    kit: t.Any, tmp_path: Path, content: str | None, message: str
) -> None:
    path = tmp_path / "config.json"
    if content is not None:
        path.write_text(content)
    with pytest.raises(kit.ConfigurationError, match=message) as caught:
        kit.settings.read_config([path])
    assert str(path) in str(caught.value)


def test_every_problem_is_named_by_its_key(kit: t.Any) -> None:
    config = {"size": 0, "rows": True, "codec": "zip", "color": "red"}
    errors = kit.settings.problems(config, SCHEMA)
    assert errors == [
        "unknown setting 'color'",
        "missing required setting 'path'",
        "setting 'size' must be greater than 0, got 0",
        "setting 'rows' must be of type integer, got bool",
        "setting 'codec' must be one of none, gzip, got 'zip'",
    ]
    assert kit.settings.problems({"path": "", "rows": 0, "size": None}, SCHEMA) == [
        "setting 'path' must not be empty",
        "setting 'rows' must be at least 1, got 0",
    ]
    listed = kit.settings.problems({"path": "/a", "codec": "zip"}, SCHEMA, enum_as_list=True)
    assert listed == ["setting 'codec' must be one of ['none', 'gzip'], got 'zip'"]
    with pytest.raises(kit.ConfigurationError) as caught:
        kit.settings.fail_if_invalid(errors[:1], SCHEMA)
    assert str(caught.value) == (
        "invalid config (unknown setting 'color'); known settings: path, size, rows, codec"
    )
    kit.settings.fail_if_invalid([], SCHEMA)


def test_about_renders_json_and_markdown(kit: t.Any) -> None:
    about = {
        "name": "target-demo",
        "description": "Demo.",
        "version": "1.2",
        "capabilities": ["about"],
        "settings": SCHEMA,
    }
    assert json.loads(kit.about.render(about, "json")) == about
    markdown = kit.about.render(about, "markdown").splitlines()
    assert markdown[0] == "# target-demo 1.2"
    assert "| Setting | Type | Required | Default | Description |" in markdown
    assert "| `size` | number or null | no | null | How big. |" in markdown
    assert "| `path` | string | yes |  | Where. |" in markdown
    optional = {**about, "settings": {**SCHEMA, "required": []}}
    without_required = kit.about.render(optional, "markdown").splitlines()
    assert "| Setting | Type | Default | Description |" in without_required
    assert "| `rows` | integer | 10 | How many. |" in without_required


PROGRAM = """
import sys
sys.path.insert(0, {kit!r})
from dativo_connector_kit import target_cli
about = {{"name": "target-demo", "description": "Demo.", "version": "1.2",
         "capabilities": ["about"], "settings": {{"properties": {{}}, "required": []}}}}
args = target_cli.parse_args(about, "Demo target.", sys.argv[1:])
with target_cli.open_input(args.input) as lines:
    print(args.config, args.format, len(lines.read()), lines.raw.__class__.__name__)
"""


def test_command_line_reads_stdin_or_file_and_prints_about_or_version(tmp_path: Path) -> None:
    source = PROGRAM.format(kit=str(KIT))
    messages = tmp_path / "messages.jsonl"
    messages.write_bytes(b'{"type": "STATE", "value": {}}\n')

    def run(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-c", source, *args]
        return subprocess.run(command, input=stdin, capture_output=True, text=True)

    from_stdin = run("--config", "a.json", "--config", "b.json", stdin="abc")
    assert from_stdin.stdout == "[PosixPath('a.json'), PosixPath('b.json')] markdown 3 FileIO\n"
    from_file = run("--input", str(messages), "--format", "json")
    assert from_file.stdout == f"[] json {messages.stat().st_size} FileIO\n"
    about = run("--about", "--format", "json", "--input", "/nonexistent")
    assert about.returncode == 0 and json.loads(about.stdout)["name"] == "target-demo"
    assert run("--about").stdout.startswith("# target-demo 1.2\n")
    assert run("--version").stdout == "target-demo 1.2\n"
    wrong = run("--format", "yaml")
    assert wrong.returncode == 2 and "invalid choice: 'yaml'" in wrong.stderr
