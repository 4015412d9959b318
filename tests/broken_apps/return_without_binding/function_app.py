import azure.functions as func

app = func.FunctionApp()


@app.generic_trigger(arg_name="req", type="httpTrigger", route="gen")
def gen(req: func.HttpRequest) -> str:
    return "a value with nowhere to go"
