"""An Event Hubs batch function for the tests: it logs each event it gets, one line per event.

The hub comes from the app setting HUB, the connection from EH; BATCH_DELAY (seconds) makes
each batch take that long, so a test can stop or kill the host in the middle of the stream.
"""

import asyncio
import logging
import os
import typing

import azure.functions as func

app = func.FunctionApp()


@app.event_hub_message_trigger(
    arg_name="events", event_hub_name="%HUB%", connection="EH", cardinality="many"
)
# typing.List: the library does not recognise list[...] as a batch (nor does the worker).
async def batch(events: typing.List[func.EventHubEvent]) -> None:  # noqa: UP006
    """Logs `SEEN <partition> <sequence number> <body>` for every event of the batch."""
    partition = events[0].metadata["PartitionContext"]["PartitionId"] if events else "?"
    await asyncio.sleep(float(os.environ.get("BATCH_DELAY", "0")))
    for event in events:
        logging.info("SEEN %s %s %s", partition, event.sequence_number, event.get_body().decode())
