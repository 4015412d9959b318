"""Cosmos DB: the ``cosmosDBTrigger`` trigger and the ``cosmosDB`` input and output bindings.

The trigger's listener is in listener.py (leases in leases.py, one change-feed read in
feed.py), input and output in binding.py, properties in config.py, connections and the
process's clients in client.py.
"""

from __future__ import annotations

from funchost.bindings.base import BindingContext, BindingProvider, BindingSpec, Dispatch
from funchost.bindings.cosmosdb.binding import CosmosInput, CosmosOutput
from funchost.bindings.cosmosdb.client import close_cosmos_clients, cosmos_connection
from funchost.bindings.cosmosdb.config import trigger_config
from funchost.bindings.cosmosdb.listener import CosmosDBTriggerListener, TriggerSetup


class CosmosDBTriggerProvider(BindingProvider):
    """``cosmosDBTrigger``: a container's change feed, ranges shared through leases."""

    type_name = "cosmosDBTrigger"
    honours_retry = True  # the host applies retry policies to Cosmos DB triggers

    def trigger(
        self, spec: BindingSpec, ctx: BindingContext, dispatch: Dispatch
    ) -> CosmosDBTriggerListener:
        """Check the binding and both connections now: a bad one disables the function."""
        config = trigger_config(spec)
        setup = TriggerSetup(
            function_name=ctx.function_name,
            config=config,
            monitored=cosmos_connection(config.connection, ctx.settings, config.where),
            leases=cosmos_connection(config.lease_connection, ctx.settings, config.where),
        )
        return CosmosDBTriggerListener(setup, dispatch)

    async def aclose(self) -> None:
        """Close the process's Cosmos DB clients."""
        await close_cosmos_clients()


class CosmosDBProvider(BindingProvider):
    """``cosmosDB`` input (by id, by query) and output (upserts)."""

    type_name = "cosmosDB"

    def input(self, spec: BindingSpec, ctx: BindingContext) -> CosmosInput:
        """Check the properties and the connection now."""
        return CosmosInput(spec, ctx)

    def output(self, spec: BindingSpec, ctx: BindingContext) -> CosmosOutput:
        """Check the properties and the connection now."""
        return CosmosOutput(spec, ctx)

    async def aclose(self) -> None:
        """Close the process's Cosmos DB clients (shared with the trigger: twice is harmless)."""
        await close_cosmos_clients()


COSMOS_DB_TRIGGER = CosmosDBTriggerProvider()
COSMOS_DB = CosmosDBProvider()
