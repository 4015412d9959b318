"""Azure Cosmos DB trigger, input and output bindings."""

from funchost.bindings.cosmosdb.provider import COSMOS_DB, COSMOS_DB_TRIGGER

__all__ = ["COSMOS_DB", "COSMOS_DB_TRIGGER"]
