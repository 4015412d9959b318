"""The same app through the library's AsgiMiddleware, in a function the user wrote.

funchost serves a wrapped function the library's way (PYTHON_SCRIPT_FILE_NAME=library_app.py).
"""

import azure.functions as func
from scope_api import api

app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)
middleware = func.AsgiMiddleware(api)


@app.function_name("http_app_func")
@app.route(route="/{*route}", methods=list(func.HttpMethod))
async def http_app_func(req: func.HttpRequest, context: func.Context) -> func.HttpResponse:
    return await middleware.handle_async(req, context)
