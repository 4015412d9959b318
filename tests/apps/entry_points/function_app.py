"""Binding types from an installed third-party package (tests/plugins/funchost_echo_binding),
reached through the generic decorators; and the ways such a package can be broken."""

import azure.functions as func

app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)


@app.route(route="echo/{name}")
@app.generic_input_binding(arg_name="greeting", type="echo", text="hello {name}")
@app.generic_output_binding(arg_name="out", type="echo", file="%ECHO_FILE%")
def echo(req: func.HttpRequest, greeting: str, out: func.Out[str]) -> str:
    """The plugin's input gives the text; its output appends to a file."""
    out.set(greeting.upper())
    return greeting


@app.route(route="broken")
@app.generic_input_binding(arg_name="x", type="brokenEcho")
def broken(req: func.HttpRequest, x: str) -> str:
    return x


@app.route(route="not-provider")
@app.generic_input_binding(arg_name="x", type="notProvider")
def not_provider(req: func.HttpRequest, x: str) -> str:
    return x


@app.route(route="a-class")
@app.generic_input_binding(arg_name="x", type="echoClass")
def a_class(req: func.HttpRequest, x: str) -> str:
    return x
