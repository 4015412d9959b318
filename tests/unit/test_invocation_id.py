"""Invocation ids are formatted by hand for speed: they must still be valid version-4 UUIDs."""

from __future__ import annotations

import uuid

from funchost.worker.invoker import _new_id


def test_ids_are_random_version_4_uuids_in_canonical_form() -> None:
    ids = [_new_id() for _ in range(2000)]
    assert len(set(ids)) == len(ids)
    for text in ids:
        parsed = uuid.UUID(text)
        assert (parsed.version, parsed.variant) == (4, uuid.RFC_4122)
        assert str(parsed) == text  # lower-case hex, dashes where str(uuid4()) puts them
