"""Fixture: one function per auth level, plus a second function-level one."""

import azure.functions as func

app = func.FunctionApp(http_auth_level=func.AuthLevel.FUNCTION)


@app.route(route="anon", auth_level=func.AuthLevel.ANONYMOUS)
def anon(req: func.HttpRequest) -> str:
    """Open to everyone."""
    return "anon"


@app.route(route="func")
def func_level(req: func.HttpRequest) -> str:
    """Needs a function key (the app's default level)."""
    return "func"


@app.route(route="func2", auth_level=func.AuthLevel.FUNCTION)
def func_level_two(req: func.HttpRequest) -> str:
    """Another function-level function: func_level's own key must not open it."""
    return "func2"


@app.route(route="adm", auth_level=func.AuthLevel.ADMIN)
def adm(req: func.HttpRequest) -> str:
    """Needs the master key."""
    return "adm"
