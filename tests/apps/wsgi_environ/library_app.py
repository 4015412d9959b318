"""The same app through the library's WsgiMiddleware, in a function the user wrote.

funchost serves a wrapped function the library's way (PYTHON_SCRIPT_FILE_NAME=library_app.py).
"""

import azure.functions as func
from environ_app import wsgi_app

app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)
middleware = func.WsgiMiddleware(wsgi_app)


@app.function_name("http_app_func")
@app.route(route="/{*route}", methods=list(func.HttpMethod))
def http_app_func(req: func.HttpRequest, context: func.Context) -> func.HttpResponse:
    return middleware.handle(req, context)
