"""What several binding packages share: connections, expressions, host storage and id,
the singleton lock, storage clients, local time and .NET formatting."""
