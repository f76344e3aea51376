"""Only ``services/graph/deps.py`` still imports from here; the strength model, its time
helpers included, is ``rapport_common.strength``. Delete this module once deps.py
imports ``as_utc`` from there."""

from rapport_common.strength import as_utc

__all__ = ["as_utc"]
