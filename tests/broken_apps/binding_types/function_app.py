import azure.functions as func

app = func.FunctionApp()


@app.generic_trigger(arg_name="x", type="fooTrigger")
def foo(x: str) -> None:
    pass


@app.timer_trigger(arg_name="timer", schedule="0 */5 * * * *")
def tick(timer: func.TimerRequest) -> None:
    pass


@app.route(route="hello")
def hello(req: func.HttpRequest) -> func.HttpResponse:
    return func.HttpResponse("hello")
