class TransientError(Exception):
    """A failure that a retry may fix: a dependency timed out, answered 5xx, was down."""
