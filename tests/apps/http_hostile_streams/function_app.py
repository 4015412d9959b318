"""HTTP streams whose response carries a control character in a header: whole and pumped."""

from collections.abc import AsyncIterator

import azure.functions as func
from azurefunctions.extensions.http.fastapi import Request, Response, StreamingResponse

app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)


@app.route(route="whole", methods=["GET"])
async def whole(req: Request) -> Response:
    """The whole body at once."""
    return Response("x", headers={"X-Bad": "a\x00b"})


@app.route(route="pumped", methods=["GET"])
async def pumped(req: Request) -> StreamingResponse:
    """The body in pieces."""

    async def pieces() -> AsyncIterator[str]:
        yield "a"
        yield "b"

    return StreamingResponse(pieces(), headers={"X-Bad": "a\x00b"})
