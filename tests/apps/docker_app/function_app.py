"""Built with the Dockerfile's own steps: what the function sees of the image's settings."""

import json
import os
from datetime import datetime
from zoneinfo import ZoneInfo

import azure.functions as func

app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)


@app.route(route="env")
def env(req: func.HttpRequest) -> func.HttpResponse:
    doc = {
        "cwd": os.getcwd(),
        "hostname": os.environ.get("WEBSITE_HOSTNAME"),
        "runtime": os.environ.get("FUNCTIONS_WORKER_RUNTIME"),
        # tzdata: a zone the slim image's missing /usr/share/zoneinfo would not have.
        "amsterdam": datetime(2026, 7, 1, tzinfo=ZoneInfo("Europe/Amsterdam")).isoformat(),
    }
    return func.HttpResponse(json.dumps(doc), mimetype="application/json")
