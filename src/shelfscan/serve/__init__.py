"""``shelfscan serve``: the REST API (FastAPI) and the upload page. Needs ``pip install shelfscan[serve]``."""
from shelfscan.serve.app import create_app

__all__ = ["create_app"]
