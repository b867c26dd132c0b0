"""Alert hooks: events, a durable outbox in the store, and one file per destination."""
