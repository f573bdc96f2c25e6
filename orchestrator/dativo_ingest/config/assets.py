"""A job's ``source.assets``: the data contract of each stream.

``{stream: file}`` names one file per stream (the file's ``schema`` must list that stream); a
folder (a string) takes every ``*.yaml`` and ``*.yml`` file in it, each covering the streams
its ``schema`` lists. Paths are relative to the project root.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # loaded only for a job naming contracts: a plain run never builds them
    from dativo_ingest.contracts.model import AssetContract

Problems = list[tuple[str, str]]


def load_assets(
    given: dict[str, str] | str | None, root: Path, problems: Problems
) -> dict[str, AssetContract]:
    """Each stream's contract; every problem goes to ``problems`` under ``source.assets``."""
    if given is None:
        return {}
    if isinstance(given, str):
        return _folder((root / given).resolve(), problems)
    contracts = {}
    for stream, name in given.items():
        where = f"source.assets.{stream}"
        contract = _load((root / name).resolve(), where, problems)
        if contract is None:
            continue
        if contract.stream(stream) is None:
            listed = ", ".join(s.name for s in contract.schema_) or "none"
            problems.append((where, f"{name}: its schema has no object {stream!r} ({listed})"))
            continue
        contracts[stream] = contract
    return contracts


def _folder(folder: Path, problems: Problems) -> dict[str, AssetContract]:
    if not folder.is_dir():
        problems.append(("source.assets", f"folder not found: {folder}"))
        return {}
    files = sorted([*folder.glob("*.yaml"), *folder.glob("*.yml")])
    if not files:
        problems.append(("source.assets", f"no *.yaml contract in {folder}"))
    contracts: dict[str, AssetContract] = {}
    found_in: dict[str, Path] = {}
    for file in files:
        contract = _load(file, "source.assets", problems)
        for stream in contract.schema_ if contract else ():
            if stream.name in found_in:
                problems.append(
                    (
                        "source.assets",
                        f"stream {stream.name!r} is in two contracts: "
                        f"{found_in[stream.name].name} and {file.name}",
                    )
                )
            found_in[stream.name] = file
            contracts[stream.name] = contract  # type: ignore[assignment]
    return contracts


def _load(file: Path, where: str, problems: Problems) -> AssetContract | None:
    from dativo_ingest.contracts.model import ContractFileError, load_contract

    try:
        return load_contract(file)
    except ContractFileError as exc:
        problems += [(where, f"{file}: {at + ': ' if at else ''}{why}") for at, why in exc.problems]
        return None
