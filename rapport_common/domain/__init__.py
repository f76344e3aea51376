"""Domain rules that the API and the workers both apply to the shared tables."""
