import azure.functions as func

app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)


@app.route(route="no-name")
@app.generic_input_binding(arg_name="rows", type="table", connection="AzureWebJobsStorage")
def no_name(req: func.HttpRequest, rows: str) -> str:
    return rows


@app.route(route="negative-take")
@app.table_input(arg_name="rows", table_name="people", take=-1, connection="AzureWebJobsStorage")
def negative_take(req: func.HttpRequest, rows: str) -> str:
    return rows


@app.route(route="text-take")
@app.generic_input_binding(
    arg_name="rows", type="table", table_name="people", take="ten", connection="AzureWebJobsStorage"
)
def text_take(req: func.HttpRequest, rows: str) -> str:
    return rows


@app.route(route="bad-name")
@app.table_output(arg_name="row", table_name="my-table", connection="AzureWebJobsStorage")
def bad_name(req: func.HttpRequest, row: func.Out[str]) -> str:
    return "x"


@app.route(route="filter-and-row")
@app.table_input(
    arg_name="row",
    table_name="people",
    partition_key="p",
    row_key="r",
    filter="Age gt 3",
    connection="AzureWebJobsStorage",
)
def filter_and_row(req: func.HttpRequest, row: str) -> str:
    return row


@app.route(route="hello")
def hello(req: func.HttpRequest) -> str:
    return "hello"
