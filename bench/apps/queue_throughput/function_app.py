"""The queue throughput bench: an empty async function on the queue named by BENCH_QUEUE."""

import azure.functions as func

app = func.FunctionApp()


@app.queue_trigger(arg_name="msg", queue_name="%BENCH_QUEUE%", connection="AzureWebJobsStorage")
async def consume(msg: func.QueueMessage) -> None:
    """Does nothing: the bench measures the host's receive → invoke → delete path."""
