import azure.functions as func

app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)


@app.route(route="reads")
@app.generic_input_binding(arg_name="doc", type="fooInput", path="x")
def reads(req: func.HttpRequest, doc: str) -> str:
    return doc


@app.generic_trigger(arg_name="item", type="barTrigger")
@app.generic_output_binding(arg_name="out", type="sql", command_text="dbo.Items")
def relays(item: str, out: func.Out[str]) -> None:
    out.set(item)


@app.route(route="hello")
def hello(req: func.HttpRequest) -> str:
    return "hello"
