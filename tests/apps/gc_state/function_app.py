"""Reports the garbage collector's state as the user's code sees it once the host serves."""

import gc
import json

import azure.functions as func

app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)


@app.route(route="gc", methods=["GET"])
def gc_state(req: func.HttpRequest) -> func.HttpResponse:
    """Whether the collector runs, and how many start-up objects it leaves out of its passes."""
    state = {"enabled": gc.isenabled(), "frozen": gc.get_freeze_count()}
    return func.HttpResponse(json.dumps(state), mimetype="application/json")
