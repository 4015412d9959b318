"""Fixture: the entry file has another name, given by PYTHON_SCRIPT_FILE_NAME."""

import azure.functions as func

app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)


@app.route(route="named")
def named(req: func.HttpRequest) -> str:
    """Prove this file was loaded."""
    return "main_app.py"
