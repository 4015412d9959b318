"""Group cold: spawn → first correct 200 of the HTTP-only hello app and of the FastAPI app.

Anchors: the raw aiohttp + uvloop server, and the same FastAPI app on uvicorn. Medians of
``--cold`` samples, the servers taking turns.

    python -m bench.cold_start [--quick] [--cold 10]
"""

from __future__ import annotations

import statistics

from bench import fastapi_vs_uvicorn, http_hello
from bench.common import Options
from bench.servers import Server, cold_samples
from bench.table import GroupResult, Row, Target, against

TARGET = Target("<=", 1.3)  # issue 7, for the HTTP-only app
PAIRS = (
    (http_hello.RAW, http_hello.ASYNC, TARGET),
    (fastapi_vs_uvicorn.UVICORN, fastapi_vs_uvicorn.FUNCHOST, None),
)


def cold_group(options: Options) -> GroupResult:
    """Median cold start of each subject against its anchor's."""
    servers = [server for anchor, subject, _ in PAIRS for server in (anchor, subject)]
    samples = cold_samples(servers, options.cold)
    rows = []
    for anchor, subject, target in PAIRS:
        anchor_row = _row(anchor, samples[anchor.name])
        rows += [anchor_row, against(anchor_row, _row(subject, samples[subject.name]), target)]
    return GroupResult(rows, {"samples_ms": samples})


def _row(server: Server, samples: list[float]) -> Row:
    note = f"median of {len(samples)}"
    return Row("cold", server.name, statistics.median(samples), "ms", note=note)


if __name__ == "__main__":
    from bench.suite import main

    main(("cold",), name="cold_start")
