"""The Service Bus throughput bench: empty async functions on the queue named by BENCH_QUEUE.

The bench starts one of them with --functions: ``consume`` takes func.ServiceBusMessage (the
library's converter parses its metadata), ``consume_str`` the body as a str.
"""

import azure.functions as func

app = func.FunctionApp()


@app.service_bus_queue_trigger(arg_name="msg", queue_name="%BENCH_QUEUE%", connection="BENCH_SB")
async def consume(msg: func.ServiceBusMessage) -> None:
    """Does nothing: the bench measures the host's receive → invoke → complete path."""


@app.service_bus_queue_trigger(arg_name="msg", queue_name="%BENCH_QUEUE%", connection="BENCH_SB")
async def consume_str(msg: str) -> None:
    """The same with the body as a str: no ServiceBusMessage to build."""
