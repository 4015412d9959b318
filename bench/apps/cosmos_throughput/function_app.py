"""The Cosmos DB throughput bench: a trigger on the container ``items`` of database ``bench``.

It counts documents and prints ``BENCH-DONE <monotonic time>`` once BENCH_DOCS have arrived.
"""

import logging
import os
import time

import azure.functions as func

app = func.FunctionApp()
TOTAL = int(os.environ.get("BENCH_DOCS", "0"))
seen = 0


@app.cosmos_db_trigger(
    arg_name="docs",
    connection="BENCH_COSMOS",
    database_name="bench",
    container_name="items",
    lease_container_name="leases",
    start_from_beginning=True,
    max_items_per_invocation=100,
)
async def consume(docs: func.DocumentList) -> None:
    """Counts: the bench measures the host's read → invoke → checkpoint path."""
    global seen
    before, seen = seen, seen + len(docs)
    if before < TOTAL <= seen:
        logging.info("BENCH-DONE %.6f", time.monotonic())
