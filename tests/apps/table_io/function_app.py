"""Azure Tables input and output, driven over HTTP; the same through the generic decorators.

The table name comes from an app setting (%T_NAME%), so every test uses a table of its own.
"""

import json

import azure.functions as func

app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)
CONN = "AzureWebJobsStorage"


def answer(value: object) -> func.HttpResponse:
    return func.HttpResponse(json.dumps(value), mimetype="application/json")


@app.route(route="write/{pk}/{rk}", methods=["POST"])
@app.table_output(
    arg_name="row", table_name="%T_NAME%", partition_key="{pk}", row_key="{rk}", connection=CONN
)
def write(req: func.HttpRequest, row: func.Out[str]) -> str:
    """The request body is the entity; the route gives its keys unless the body does."""
    row.set(req.get_body().decode())
    return "written"


@app.route(route="write-many", methods=["POST"])
@app.table_output(arg_name="rows", table_name="%T_NAME%", connection=CONN)
def write_many(req: func.HttpRequest, rows: func.Out[str]) -> str:
    """A JSON array of entities (each with its own keys) in one output."""
    rows.set(json.dumps(req.get_json()))
    return "written"


@app.route(route="entity/{pk}/{rk}", methods=["GET"])
@app.table_input(
    arg_name="row", table_name="%T_NAME%", partition_key="{pk}", row_key="{rk}", connection=CONN
)
def by_key(req: func.HttpRequest, row: str | None) -> func.HttpResponse:
    """One entity by its keys (null when there is none)."""
    return answer({"type": type(row).__name__, "entity": None if row is None else json.loads(row)})


@app.route(route="partition/{pk}", methods=["GET"])
@app.table_input(arg_name="rows", table_name="%T_NAME%", partition_key="{pk}", connection=CONN)
def partition(req: func.HttpRequest, rows: str) -> func.HttpResponse:
    """Every entity of one partition."""
    return answer(json.loads(rows))


@app.route(route="named/{name}", methods=["GET"])
@app.table_input(
    arg_name="rows", table_name="%T_NAME%", filter="Name eq '{name}'", take=2, connection=CONN
)
def named(req: func.HttpRequest, rows: str) -> func.HttpResponse:
    """At most two entities whose Name is the route's (quotes in it are escaped)."""
    return answer(json.loads(rows))


@app.route(route="older/{age}", methods=["GET"])
@app.table_input(arg_name="rows", table_name="%T_NAME%", filter="Age gt {age}", connection=CONN)
def older(req: func.HttpRequest, rows: str) -> func.HttpResponse:
    """A numeric filter parameter: only a number may go in unquoted."""
    return answer(json.loads(rows))


@app.route(route="all", methods=["GET"])
@app.table_input(arg_name="rows", table_name="%T_NAME%", take=3, connection=CONN)
def every(req: func.HttpRequest, rows: str) -> func.HttpResponse:
    """No partition key, no filter: the whole table, at most take entities."""
    return answer(json.loads(rows))


@app.route(route="generic/write/{pk}/{rk}", methods=["POST"])
@app.generic_output_binding(
    arg_name="row",
    type="table",
    table_name="%T_NAME%",
    partition_key="{pk}",
    row_key="{rk}",
    connection=CONN,
)
@app.generic_output_binding(arg_name="msg", type="queue", queue_name="%Q_GENERIC%", connection=CONN)
def generic_write(req: func.HttpRequest, row: func.Out[str], msg: func.Out[str]) -> str:
    """The table and queue outputs through generic_output_binding."""
    row.set(req.get_body().decode())
    msg.set(f"wrote {req.route_params['pk']}/{req.route_params['rk']}")
    return "written"


@app.route(route="generic/entity/{pk}/{rk}", methods=["GET"])
@app.generic_input_binding(
    arg_name="row",
    type="table",
    table_name="%T_NAME%",
    partition_key="{pk}",
    row_key="{rk}",
    connection=CONN,
)
def generic_by_key(req: func.HttpRequest, row: str | None) -> func.HttpResponse:
    """One entity through generic_input_binding."""
    return answer(None if row is None else json.loads(row))


@app.route(route="generic/filter", methods=["GET"])
@app.generic_input_binding(
    arg_name="rows", type="table", table_name="%T_NAME%", filter="Age ge 30", connection=CONN
)
def generic_filter(req: func.HttpRequest, rows: str) -> func.HttpResponse:
    """A filter through generic_input_binding."""
    return answer(json.loads(rows))
