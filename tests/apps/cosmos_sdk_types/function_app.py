"""Cosmos DB inputs typed with the SDK types of azurefunctions-extensions-bindings-cosmosdb:
the extension's own converter builds live clients from the model binding data funchost sends."""

import json

import azure.functions as func
import azurefunctions.extensions.bindings.cosmosdb as cosmos

app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)


@app.route(route="container/{pk}/{id}")
@app.cosmos_db_input(
    arg_name="container", database_name="%DB%", container_name="items", connection="Cosmos"
)
def container(req: func.HttpRequest, container: cosmos.ContainerProxy) -> str:
    """Read an item through the ContainerProxy the extension built."""
    item = container.read_item(req.route_params["id"], partition_key=req.route_params["pk"])
    return json.dumps({"type": type(container).__name__, "name": item["name"]})


@app.route(route="database")
@app.cosmos_db_input(
    arg_name="database", database_name="%DB%", container_name="items", connection="Cosmos"
)
def database(req: func.HttpRequest, database: cosmos.DatabaseProxy) -> str:
    """List the database's containers through the DatabaseProxy."""
    names = sorted(c["id"] for c in database.list_containers())
    return json.dumps({"type": type(database).__name__, "containers": names})


@app.route(route="client")
@app.cosmos_db_input(
    arg_name="client", database_name="%DB%", container_name="items", connection="Cosmos"
)
def client(req: func.HttpRequest, client: cosmos.CosmosClient) -> str:
    """List the account's databases through the CosmosClient."""
    names = sorted(d["id"] for d in client.list_databases())
    return json.dumps({"type": type(client).__name__, "databases": names})
