"""A FastAPI app under the default routePrefix "api".

The Functions host hands the function the request's URL, and the library passes its whole
path to the framework: FastAPI sees /api/items/1, prefix included.
"""

import azure.functions as func
from fastapi import FastAPI, Request

api = FastAPI()


@api.get("/api/items/{item_id}")
async def item(item_id: int, request: Request) -> dict[str, object]:
    return {"item_id": item_id, "path": request.url.path, "root_path": request.scope["root_path"]}


@api.get("/things/{thing_id}")
async def unprefixed(thing_id: int) -> dict[str, object]:
    return {"thing_id": thing_id}  # on uvicorn at /things/1; never reached through the host


# The idiomatic way to keep prefix-free routes: mount the app at the prefix.
v2 = FastAPI()


@v2.get("/items/{item_id}")
async def mounted_item(item_id: int, request: Request) -> dict[str, object]:
    return {"item_id": item_id, "mounted": True, "root_path": request.scope["root_path"]}


api.mount("/api/v2", v2)

app = func.AsgiFunctionApp(app=api, http_auth_level=func.AuthLevel.ANONYMOUS)
