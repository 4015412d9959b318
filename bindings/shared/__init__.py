"""What several binding packages share: connections, expressions, host storage and id,
the singleton lock, storage clients, the poll-and-settle loop of queue-like triggers, storage
queue leases and the in-process queue watcher, local time and .NET formatting."""
