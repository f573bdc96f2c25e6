"""Mounts are checked against the container's user from their owner and mode bits."""

from __future__ import annotations

import pytest

from dativo_ingest.exceptions import ConfigurationError
from dativo_ingest.runtime.mounts import check_mounts, mount_problem
from dativo_ingest.runtime.options import Mount

OTHER_UID = OTHER_GID = 65532


def test_a_folder_of_another_user_must_be_open_to_others(tmp_path):
    folder = tmp_path / "out"
    folder.mkdir(mode=0o755)
    folder.chmod(0o755)
    uid, gid = folder.stat().st_uid, folder.stat().st_gid
    assert mount_problem(folder, False, OTHER_UID + 1, OTHER_GID + 1) is None  # r-x for others
    problem = mount_problem(folder, True, OTHER_UID + 1, OTHER_GID + 1)
    assert problem is not None and f"it cannot write the folder {folder}" in problem
    assert f"`chown -R {OTHER_UID + 1}:{OTHER_GID + 1} {folder}`" in problem
    assert mount_problem(folder, True, uid, gid) is None  # the owner may write
    folder.chmod(0o700)
    assert "cannot read" in (mount_problem(folder, False, OTHER_UID + 1, OTHER_GID + 1) or "")


def test_every_problem_is_listed_with_the_uid(tmp_path):
    missing = tmp_path / "missing"
    closed = tmp_path / "closed"
    closed.mkdir(mode=0o700)
    closed.chmod(0o700)
    with pytest.raises(ConfigurationError) as caught:
        check_mounts(
            "target-x",
            [Mount(str(missing)), Mount(str(closed), writable=True)],
            OTHER_UID + 1,
            OTHER_GID + 1,
        )
    message = str(caught.value)
    assert message.startswith(
        f"runtime.mounts of target-x: the container runs as uid {OTHER_UID + 1}"
    )
    assert f"{missing} does not exist" in message
    assert f"it cannot read or write the folder {closed}" in message
    assert caught.value.exit_code == 2
