"""SQL the API and the workers both run, one class per table group."""
