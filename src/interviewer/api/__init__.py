"""The api: FastAPI app factory (`create_app`) and process entry point (`serve`)."""

from interviewer.api.app import create_app

__all__ = ["create_app"]
