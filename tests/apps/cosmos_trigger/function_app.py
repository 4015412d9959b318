"""A Cosmos DB trigger that records every batch it gets, one JSON line per invocation, in the
file %RECORD% names (appended and flushed before the function returns, so a batch whose
function finished is on disk even if the host is killed right after)."""

import json
import os

import azure.functions as func

app = func.FunctionApp()


@app.cosmos_db_trigger(
    arg_name="docs",
    connection="Cosmos",
    database_name="%DB%",
    container_name="items",
    lease_container_name="leases",
    create_lease_container_if_not_exists=True,
    start_from_beginning=True,
    max_items_per_invocation=10,
    feed_poll_delay=200,
    lease_acquire_interval=500,
    lease_renew_interval=500,
    lease_expiration_interval=3000,
)
def changes(docs: func.DocumentList) -> None:
    """One line per batch: the ids and values of its documents, in order."""
    line = json.dumps([[doc["id"], doc.get("n")] for doc in docs])
    with open(os.environ["RECORD"], "a", encoding="utf-8") as record:
        record.write(line + "\n")
        record.flush()
        os.fsync(record.fileno())
