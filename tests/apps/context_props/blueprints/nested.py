"""A blueprint in a folder of its own: its functions' directory is this folder."""

import azure.functions as func

bp = func.Blueprint()


@bp.route(route="nested", auth_level=func.AuthLevel.ANONYMOUS)
def nested(req: func.HttpRequest, context: func.Context) -> str:
    return context.function_directory
