"""SDK-type blob parameters (azurefunctions-extensions-bindings-blob): live SDK clients."""

import json
import logging

import azure.functions as func
import azurefunctions.extensions.bindings.blob as blob

app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)


@app.blob_trigger(arg_name="client", path="%B_SDK%/{name}", connection="AzureWebJobsStorage")
def sdk_trigger(client: blob.BlobClient) -> None:
    """The trigger as a BlobClient of the new blob."""
    doc = {
        "type": f"{type(client).__module__}.{type(client).__name__}",
        "container": client.container_name,
        "name": client.blob_name,
        "content": client.download_blob().readall().decode(),
    }
    logging.info("SDK %s", json.dumps(doc))


@app.route(route="sdk/{name}", methods=["GET"])
@app.blob_input(arg_name="container", path="%B_SDK%", connection="AzureWebJobsStorage")
@app.blob_input(arg_name="downloader", path="%B_SDK%/{name}", connection="AzureWebJobsStorage")
@app.blob_input(arg_name="client", path="%B_SDK%/{name}", connection="AzureWebJobsStorage")
def sdk_input(
    req: func.HttpRequest,
    container: blob.ContainerClient,
    downloader: blob.StorageStreamDownloader,
    client: blob.BlobClient,
) -> func.HttpResponse:
    """A ContainerClient, a StorageStreamDownloader and a BlobClient, as inputs."""
    doc = {
        "container": type(container).__name__,
        "names": sorted(item.name for item in container.list_blobs()),
        "downloader": type(downloader).__name__,
        "content": downloader.readall().decode(),
        "client": type(client).__name__,
        "exists": client.exists(),
    }
    return func.HttpResponse(json.dumps(doc), mimetype="application/json")
