"""``dativo build [NAME ...]``: Docker images of first-party connectors, built offline."""

from __future__ import annotations

import argparse

from dativo_ingest.exceptions import ConfigurationError


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "build", help="build the Docker images of first-party connectors (dativo/NAME:VERSION)"
    )
    parser.add_argument(
        "names",
        nargs="*",
        metavar="NAME",
        help="NAME or VARIANT-NAME (default: every first-party connector)",
    )
    parser.add_argument(
        "--base-image",
        help="build FROM this image (default: $DATIVO_BASE_IMAGE, else dativo/python-base:3.11, "
        "built first by debootstrap)",
    )
    parser.add_argument(
        "--force", action="store_true", help="rebuild even if an image of the same source exists"
    )
    parser.set_defaults(handler=build)


def build(args: argparse.Namespace) -> int:
    from dativo_ingest.cli.project_args import current_project, project_registry
    from dativo_ingest.install.images import ensure_image
    from dativo_ingest.runtime.container.api import BUILD_SECONDS, connect

    registry = project_registry(current_project(args))
    if args.names:
        specs = [registry.resolve(name) for name in args.names]
    else:
        specs = [spec for spec in registry if spec.path and spec.default]
    for spec in specs:
        if spec.path is None:
            raise ConfigurationError(
                f"{spec.label} is not a first-party connector: it has no source folder to build"
            )
    api = connect(BUILD_SECONDS)
    for spec in specs:
        print(f"{spec.label}: {ensure_image(spec, api, base=args.base_image, force=args.force)}")
    return 0
