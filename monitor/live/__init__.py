"""The daemon's live side: the store's own thread, the sample writer, the in-memory state."""
