"""A local AMQP 1.0 peer for the Service Bus and Event Hubs SDKs: ``python -m tests.peers.amqp``."""
