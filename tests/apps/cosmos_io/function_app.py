"""Cosmos DB input and output, driven over HTTP; the database comes from %DB%, so every test
uses one of its own. Container ``items`` is partitioned by ``/pk``."""

import json

import azure.functions as func

app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)
CONN = "Cosmos"


def answer(value: object) -> func.HttpResponse:
    return func.HttpResponse(json.dumps(value), mimetype="application/json")


def plain(docs: func.DocumentList | None) -> object:
    """Documents as JSON, without the service's system properties."""
    if docs is None:
        return None
    return [{k: v for k, v in doc.to_dict().items() if not k.startswith("_")} for doc in docs]


@app.route(route="write", methods=["POST"])
@app.cosmos_db_output(arg_name="doc", database_name="%DB%", container_name="items", connection=CONN)
def write(req: func.HttpRequest, doc: func.Out[func.Document]) -> str:
    """The request body is the item (upserted)."""
    doc.set(func.Document.from_json(req.get_body().decode()))
    return "written"


@app.route(route="write-many", methods=["POST"])
@app.cosmos_db_output(
    arg_name="docs", database_name="%DB%", container_name="items", connection=CONN
)
def write_many(req: func.HttpRequest, docs: func.Out[func.DocumentList]) -> str:
    """A JSON array of items in one output."""
    docs.set(func.DocumentList(func.Document.from_dict(d) for d in req.get_json()))
    return "written"


@app.route(route="write-text/{name}", methods=["POST"])
@app.cosmos_db_output(
    arg_name="doc",
    database_name="%DB%",
    container_name="{name}",
    connection=CONN,
    create_if_not_exists=True,
    partition_key="/pk",
)
def write_text(req: func.HttpRequest, doc: func.Out[str]) -> str:
    """The body as JSON text, into a container the output creates when it is missing."""
    doc.set(req.get_body().decode())
    return "written"


@app.route(route="write-missing", methods=["POST"])
@app.cosmos_db_output(
    arg_name="doc", database_name="%DB%", container_name="nothere", connection=CONN
)
def write_missing(req: func.HttpRequest, doc: func.Out[str]) -> str:
    """Into a container that does not exist, without create_if_not_exists."""
    doc.set(req.get_body().decode())
    return "written"


@app.route(route="item/{pk}/{id}", methods=["GET"])
@app.cosmos_db_input(
    arg_name="docs",
    database_name="%DB%",
    container_name="items",
    id="{id}",
    partition_key="{pk}",
    connection=CONN,
)
def item(req: func.HttpRequest, docs: func.DocumentList) -> func.HttpResponse:
    """One item by id and partition key (None when there is none)."""
    return answer({"type": type(docs).__name__, "docs": plain(docs)})


@app.route(route="named/{name}", methods=["GET"])
@app.cosmos_db_input(
    arg_name="docs",
    database_name="%DB%",
    container_name="items",
    sql_query="SELECT * FROM c WHERE c.name = {name} ORDER BY c.id",
    connection=CONN,
)
def named(req: func.HttpRequest, docs: func.DocumentList) -> func.HttpResponse:
    """The items whose name is the route's (a parameter: it cannot change the query)."""
    return answer(plain(docs))


@app.route(route="partition/{pk}", methods=["GET"])
@app.cosmos_db_input(
    arg_name="docs",
    database_name="%DB%",
    container_name="items",
    sql_query="SELECT * FROM c ORDER BY c.id",
    partition_key="{pk}",
    connection=CONN,
)
def partition(req: func.HttpRequest, docs: func.DocumentList) -> func.HttpResponse:
    """Every item of one partition."""
    return answer(plain(docs))


@app.route(route="all", methods=["GET"])
@app.cosmos_db_input(arg_name="docs", database_name="%DB%", container_name="items", connection=CONN)
def everything(req: func.HttpRequest, docs: func.DocumentList) -> func.HttpResponse:
    """Every item: no id, no query."""
    return answer(sorted(plain(docs) or [], key=lambda d: str(d["id"])))


@app.route(route="generic/{pk}/{id}", methods=["GET"])
@app.generic_input_binding(
    arg_name="docs",
    type="cosmosDB",
    databaseName="%DB%",
    containerName="items",
    id="{id}",
    partitionKey="{pk}",
    connection=CONN,
)
def generic(req: func.HttpRequest, docs: func.DocumentList) -> func.HttpResponse:
    """The same read as item(), through the generic decorator."""
    return answer(plain(docs))
