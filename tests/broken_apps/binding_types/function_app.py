import azure.functions as func

app = func.FunctionApp()


@app.generic_trigger(arg_name="x", type="fooTrigger")
def foo(x: str) -> None:
    pass


@app.kafka_trigger(arg_name="docs", topic="t", broker_list="BrokerList", consumer_group="$Default")
def work(docs: func.KafkaEvent) -> None:
    pass


@app.route(route="hello")
def hello(req: func.HttpRequest) -> func.HttpResponse:
    return func.HttpResponse("hello")
