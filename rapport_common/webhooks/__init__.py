"""Partner webhooks: what both the API (endpoints, docs) and the notifier (delivery) need."""
