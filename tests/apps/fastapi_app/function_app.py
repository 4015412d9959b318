"""A FastAPI app served by func.AsgiFunctionApp at the root (host.json routePrefix "").

The tests run the same ``api`` object on uvicorn and compare the answers.
"""

import contextlib
import hashlib
from collections.abc import AsyncIterator
from typing import Annotated

import azure.functions as func
from fastapi import Cookie, Depends, FastAPI, Header, HTTPException, Query, Request, Response
from fastapi.responses import JSONResponse, RedirectResponse, StreamingResponse
from pydantic import BaseModel, Field


@contextlib.asynccontextmanager
async def lifespan(api: FastAPI) -> AsyncIterator[dict[str, str]]:
    print("fastapi_app: lifespan startup", flush=True)
    yield {"greeting": "set by the lifespan startup"}
    print("fastapi_app: lifespan shutdown", flush=True)


api = FastAPI(lifespan=lifespan)


class Item(BaseModel):
    name: str = Field(min_length=1)
    price: float = Field(gt=0)
    tags: list[str] = []


class TeapotError(Exception):
    def __init__(self, brew: str) -> None:
        self.brew = brew


@api.exception_handler(TeapotError)
async def teapot_handler(request: Request, exc: TeapotError) -> JSONResponse:
    return JSONResponse(
        status_code=418,
        content={"error": "teapot", "brew": exc.brew, "path": request.url.path},
        headers={"X-Error": "teapot"},
    )


def current_user(x_token: Annotated[str | None, Header()] = None) -> str:
    if x_token != "secret":
        raise HTTPException(401, "bad token", headers={"WWW-Authenticate": "Token"})
    return "alice"


def paging(offset: int = 0, limit: Annotated[int, Query(le=100)] = 10) -> dict[str, int]:
    return {"offset": offset, "limit": limit}


@api.get("/items/{item_id}")
async def read_item(
    item_id: int,
    page: Annotated[dict[str, int], Depends(paging)],
    q: str | None = None,
    tags: Annotated[list[str] | None, Query()] = None,
) -> dict[str, object]:
    return {"item_id": item_id, "q": q, "tags": tags or [], "page": page}


@api.post("/items", status_code=201)
async def create_item(item: Item, user: Annotated[str, Depends(current_user)]) -> dict[str, object]:
    return {"item": item.model_dump(), "owner": user, "total": round(item.price * 1.2, 2)}


@api.get("/users/me")
async def me(user: Annotated[str, Depends(current_user)]) -> dict[str, str]:
    return {"user": user}


@api.get("/teapot")
async def teapot(brew: str = "earl grey") -> None:
    raise TeapotError(brew)


@api.post("/echo-size")
async def echo_size(request: Request) -> dict[str, object]:
    body = await request.body()
    return {"length": len(body), "sha256": hashlib.sha256(body).hexdigest()}


@api.get("/stream")
async def stream(n: int = 100) -> StreamingResponse:
    async def lines() -> AsyncIterator[str]:
        for i in range(n):
            yield f"line {i}\n"

    return StreamingResponse(lines(), media_type="text/plain")


@api.get("/bytes")
async def many_bytes(n: int = 1024) -> Response:
    return Response(bytes(i % 251 for i in range(n)), media_type="application/octet-stream")


@api.get("/cookies/set")
async def set_cookies(response: Response) -> dict[str, bool]:
    response.set_cookie("session", "abc123", httponly=True, samesite="strict")
    response.set_cookie("theme", "dark", max_age=60, path="/cookies")
    response.headers["X-Custom"] = "custom value"
    return {"set": True}


@api.get("/cookies/read")
async def read_cookies(
    session: Annotated[str | None, Cookie()] = None,
    theme: Annotated[str | None, Cookie()] = None,
    x_custom_in: Annotated[str | None, Header()] = None,
) -> dict[str, str | None]:
    return {"session": session, "theme": theme, "x_custom_in": x_custom_in}


@api.get("/redirect")
async def redirect() -> RedirectResponse:
    return RedirectResponse("/items/1?q=redirected", status_code=307)


@api.get("/state")
async def state(request: Request) -> dict[str, str]:
    return {"greeting": request.state.greeting}


@api.get("/names/{name}")
async def name(name: str) -> dict[str, str]:
    return {"name": name}


@api.delete("/items/{item_id}", status_code=204)
async def delete_item(item_id: int) -> Response:
    return Response(status_code=204)


@api.api_route("/search", methods=["QUERY"])
async def search(request: Request) -> dict[str, str]:
    return {"method": request.method, "query": (await request.body()).decode()}


@api.get("/boom")
async def boom() -> None:
    raise RuntimeError("unhandled in the route")


app = func.AsgiFunctionApp(app=api, http_auth_level=func.AuthLevel.ANONYMOUS)
