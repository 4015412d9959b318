"""A local Cosmos DB peer: cosmosdb-server behind a proxy that implements the change feed."""
