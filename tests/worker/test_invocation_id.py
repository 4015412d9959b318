"""Invocation ids are formatted by hand for speed: they must still be valid version-4 UUIDs."""

from __future__ import annotations

import os
import uuid

from funchost.worker.invoker import _new_id


def test_ids_are_random_version_4_uuids_in_canonical_form() -> None:
    ids = [_new_id() for _ in range(2000)]
    assert len(set(ids)) == len(ids)
    for text in ids:
        parsed = uuid.UUID(text)
        assert (parsed.version, parsed.variant) == (4, uuid.RFC_4122)
        assert str(parsed) == text  # lower-case hex, dashes where str(uuid4()) puts them


def test_a_forked_process_draws_its_own_ids() -> None:
    # The per-process prefix and counter are drawn again after fork: a child (a worker of
    # a forking supervisor) never repeats its parent's ids.
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: send its next id and leave at once
        os.write(write, _new_id().encode())
        os._exit(0)
    os.close(write)
    os.waitpid(pid, 0)
    child = os.read(read, 64).decode()
    os.close(read)
    parent = _new_id()
    assert child != parent and child[:24] != parent[:24]
