"""The Event Hubs throughput bench: a batch function on the hub named by BENCH_HUB.

It counts events and prints ``BENCH-DONE <monotonic time>`` once BENCH_EVENTS have arrived.
"""

import logging
import os
import time
import typing

import azure.functions as func

app = func.FunctionApp()
TOTAL = int(os.environ.get("BENCH_EVENTS", "0"))
seen = 0


@app.event_hub_message_trigger(
    arg_name="events", event_hub_name="%BENCH_HUB%", connection="EH", cardinality="many"
)
async def consume(events: typing.List[func.EventHubEvent]) -> None:  # noqa: UP006
    """Counts: the bench measures the host's receive → invoke → checkpoint path."""
    global seen
    before, seen = seen, seen + len(events)
    if before < TOTAL <= seen:
        logging.info("BENCH-DONE %.6f", time.monotonic())
