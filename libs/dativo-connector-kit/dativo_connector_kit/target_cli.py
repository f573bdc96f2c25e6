"""The command line shared by the lean Singer targets: ``--config`` (repeatable), ``--input``,
``--test``, ``--about [--format json|markdown]`` and ``--version``; ``main`` runs one."""

from __future__ import annotations

import argparse
import sys
import typing as t
from pathlib import Path

from dativo_connector_kit.about import FORMATTERS, render
from dativo_connector_kit.errors import ConfigurationError, exit_on_error

if t.TYPE_CHECKING:
    from collections.abc import Callable

READ_BUFFER_BYTES = 1 << 20
INTERRUPTED = 130
SettingsT = t.TypeVar("SettingsT")


def main(
    about: dict[str, t.Any],
    description: str,
    argv: list[str] | None,
    *,
    load: Callable[[list[Path]], SettingsT],
    test: Callable[[SettingsT], str],
    run: Callable[[SettingsT, t.BinaryIO], str],
) -> int:
    """Run a target: ``load`` the config files' settings, then either ``test`` them (``--test``:
    reach the destination, check this user may create and write there, write nothing) or
    ``run`` on the input. Both return a summary printed on stderr; a ``ConnectorError`` exits
    with its code, Ctrl-C with 130."""
    args = parse_args(about, description, argv)
    program = about["name"]

    @exit_on_error(program)
    def _main() -> int:
        settings = load(args.config)
        if args.test:
            print(f"{program}: test passed: {test(settings)}", file=sys.stderr)
            return 0
        try:
            with _open_input(args.input) as lines:
                summary = run(settings, lines)
        except KeyboardInterrupt:
            print(f"{program}: interrupted; nothing uncommitted was kept", file=sys.stderr)
            return INTERRUPTED
        print(f"{program}: {summary}", file=sys.stderr)
        return 0

    return _main()


def parse_args(
    about: dict[str, t.Any], description: str, argv: list[str] | None
) -> argparse.Namespace:
    """Parse the command line of the target ``about`` describes (see ``about.render``).

    Like ``--version`` and ``--help``, ``--about`` prints and exits with status 0."""
    args = parser(about["name"], description, about["version"]).parse_args(argv)
    if args.about:
        sys.stdout.write(render(about, args.format))
        raise SystemExit(0)
    return args


def parser(program: str, description: str, version: str) -> argparse.ArgumentParser:
    """The argument parser of a target named ``program``."""
    parser = argparse.ArgumentParser(prog=program, description=description)
    parser.add_argument(
        "--config",
        action="append",
        type=Path,
        default=[],
        metavar="FILE",
        help="JSON config file; repeat to merge several, later ones winning",
    )
    parser.add_argument(
        "--input", type=Path, metavar="FILE", help="read messages from FILE instead of stdin"
    )
    parser.add_argument(
        "--test",
        action="store_true",
        help="check the destination can be reached and written (writing nothing), then exit",
    )
    parser.add_argument(
        "--about", action="store_true", help="describe the target and its settings, then exit"
    )
    parser.add_argument(
        "--format",
        choices=sorted(FORMATTERS),
        default="markdown",
        help="format of --about (default: markdown)",
    )
    parser.add_argument("--version", action="version", version=f"{program} {version}")
    return parser


def open_input(path: Path | None) -> t.BinaryIO:
    """Open the message source (``path``, or stdin when None) with a 1 MiB buffer: stdin's own
    8 KiB one reads a quarter slower."""
    if path is None:
        return open(sys.stdin.fileno(), "rb", buffering=READ_BUFFER_BYTES, closefd=False)
    return path.open("rb", buffering=READ_BUFFER_BYTES)


def _open_input(path: Path | None) -> t.BinaryIO:
    """Open the message source; an unreadable ``--input`` file is a configuration error."""
    try:
        return open_input(path)
    except OSError as exc:
        raise ConfigurationError(f"cannot read --input {path}: {exc.strerror}") from None
