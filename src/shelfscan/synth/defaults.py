"""Default sizes of synthetic shelves, readable without OpenCV (``shelfscan synth``'s option defaults)."""
from __future__ import annotations

DEFAULT_SKUS = 400   # products in the default catalog
PHOTO_WIDTH = 1024   # width of a rendered shelf photo in pixels (height 4/3 or 3/4 of it)
