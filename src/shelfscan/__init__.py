"""shelfscan: dense shelf product detection, grouping into product types, and counting per type."""
from __future__ import annotations

__version__ = "0.1.0"

from shelfscan.detections import Detections  # noqa: E402
from shelfscan.errors import FormatError, InputError, ShelfscanError  # noqa: E402

__all__ = ["Detections", "FormatError", "InputError", "ShelfscanError", "__version__"]


def count(image, **kwargs):
    """Products of one photo grouped into types and counted: see :func:`shelfscan.counting.count`."""
    from shelfscan.counting import count as _count

    return _count(image, **kwargs)


__all__.append("count")
