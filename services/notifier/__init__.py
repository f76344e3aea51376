"""The worker: relays the outbox, projects events to the graph, sends mail and webhooks."""
