"""An app that registers a Blueprint from a sibling module next to its own function."""

import azure.functions as func
from blueprint_functions import bp

app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)
app.register_functions(bp)


@app.route(route="main")
def main(req: func.HttpRequest) -> str:
    return "from the app"
