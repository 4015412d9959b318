"""CORS configured in local.settings.json (Host.CORS, Host.CORSCredentials) instead of flags."""

import azure.functions as func

app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)


@app.route(route="hello")
def hello(req: func.HttpRequest) -> str:
    return "hello"
