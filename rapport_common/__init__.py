"""Code shared by the three Rapport services: settings, event contracts, the outbox, logging."""
