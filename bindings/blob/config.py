"""host.json ``extensions.blobs``, checked when a blob-triggered function is loaded.

``maxDegreeOfParallelism`` and ``poisonBlobThreshold`` are the WebJobs blob extension's
``BlobsOptions``; ``extensions.blobs.funchost`` holds funchost's own polling keys, which the
Functions host ignores.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TypeVar

from funchost.config_section import Section

D = TypeVar("D")
MAX_POLLING_INTERVAL = 60.0  # QueuesOptions.MaxPollingInterval
MESSAGE_VISIBILITY = 600.0  # QueueListener: a received message is invisible for 10 minutes


@dataclass(frozen=True)
class BlobsOptions:
    """host.json ``extensions.blobs``, plus funchost's own polling keys for tests."""

    max_degree_of_parallelism: int
    poison_blob_threshold: int = 5
    scan_interval: float | None = None  # None: the host's (2 s on Azurite, else 10 s)
    max_polling_interval: float = MAX_POLLING_INTERVAL
    # How long a message a killed host held stays hidden; shortened so tests see it come back.
    message_visibility: float = MESSAGE_VISIBILITY


def blobs_options(host_json: Section) -> BlobsOptions:
    """Read and check ``extensions.blobs`` (absent: every default)."""
    section = host_json.section("extensions", "blobs")
    own = section.section("funchost")
    # BlobsOptions: unset, 8 per processor.
    parallelism = 8 * (os.cpu_count() or 1)
    return BlobsOptions(
        max_degree_of_parallelism=section.integer("maxDegreeOfParallelism", parallelism, low=1),
        poison_blob_threshold=section.integer("poisonBlobThreshold", 5, low=1),
        scan_interval=_interval(own, "scanInterval", None, 0.05),
        max_polling_interval=_interval(own, "maxPollingInterval", MAX_POLLING_INTERVAL, 0.1),
        message_visibility=_interval(own, "messageVisibility", MESSAGE_VISIBILITY, 2.0),
    )


def _interval(section: Section, key: str, default: D, least: float) -> float | D:
    expected = f'a TimeSpan of at least {least:g} s, like "00:00:01"'
    return section.timespan(key, default, low=least, expected=expected)
