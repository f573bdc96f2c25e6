"""The protocol adapters: every protocol pair has a relay entry, and each adapter's command
lines and output readings are the protocol's own."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from dativo_ingest.protocol.adapters import ADAPTERS, adapter_for
from dativo_ingest.protocol.names import Capability
from dativo_ingest.protocol.pairs import RELAYED, Passage, stream_handler
from dativo_ingest.protocol.singer import SingerScanner
from dativo_ingest.protocol.translate import AirbyteEvents, AirbyteToSinger, Translator

CONFIG, CATALOG, STATE = Path("c.json"), Path("k.json"), Path("s.json")


def test_every_pair_of_protocols_has_a_relay_entry() -> None:
    assert set(RELAYED) == {(a, b) for a in ADAPTERS for b in ADAPTERS}
    passage = Passage({"streams": []}, None, AirbyteEvents("tap"))
    assert type(stream_handler("singer", "singer", passage)) is SingerScanner
    assert isinstance(stream_handler("airbyte", "singer", passage), AirbyteToSinger)
    for pair in RELAYED:
        handler = stream_handler(*pair, passage)
        assert handler.records == 0 and handler.per_stream == {}
        assert isinstance(handler, SingerScanner | Translator)


def test_singer_command_lines() -> None:
    singer = adapter_for("singer")
    assert singer.discover_args(CONFIG) == ["--config", CONFIG, "--discover"]
    assert singer.check_args(CONFIG) == ["--config", CONFIG, "--test"]
    assert singer.read_args(CONFIG, CATALOG, STATE, {Capability.PROPERTIES}) == [
        "--config", CONFIG, "--properties", CATALOG, "--state", STATE,
    ]  # fmt: skip
    assert singer.read_args(CONFIG, CATALOG, None, set()) == [
        "--config",
        CONFIG,
        "--catalog",
        CATALOG,
    ]
    assert singer.write_args(CONFIG, None) == ["--config", CONFIG]
    assert not singer.has_check(set()) and singer.has_check({Capability.TEST})
    assert singer.state_input({"bookmarks": {}}) == {"bookmarks": {}}


def test_airbyte_command_lines() -> None:
    airbyte = adapter_for("airbyte")
    assert airbyte.spec_args() == ["spec"]
    assert airbyte.discover_args(CONFIG) == ["discover", "--config", CONFIG]
    assert airbyte.check_args(CONFIG) == ["check", "--config", CONFIG]
    assert airbyte.read_args(CONFIG, CATALOG, STATE, set()) == [
        "read", "--config", CONFIG, "--catalog", CATALOG, "--state", STATE,
    ]  # fmt: skip
    assert airbyte.write_args(CONFIG, CATALOG) == [
        "write",
        "--config",
        CONFIG,
        "--catalog",
        CATALOG,
    ]
    with pytest.raises(ValueError, match="configured catalog"):
        airbyte.read_args(CONFIG, None, None, set())


def test_airbyte_output_readings() -> None:
    airbyte = adapter_for("airbyte")
    catalog = {"streams": [{"name": "users"}]}
    output = b"not json\n" + orjson.dumps({"type": "CATALOG", "catalog": catalog}) + b"\n"
    assert airbyte.parse_catalog(output) == catalog
    with pytest.raises(orjson.JSONDecodeError):
        airbyte.parse_catalog(b'{"type": "LOG"}\n')
    status = {
        "type": "CONNECTION_STATUS",
        "connectionStatus": {"status": "FAILED", "message": "no"},
    }
    assert airbyte.check_outcome(0, orjson.dumps(status)) == (False, "no")
    status["connectionStatus"] = {"status": "SUCCEEDED"}
    assert airbyte.check_outcome(0, orjson.dumps(status)) == (True, "connection check succeeded")
    assert airbyte.check_outcome(1, b"") == (False, "no CONNECTION_STATUS")
