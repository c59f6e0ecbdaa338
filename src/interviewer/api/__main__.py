"""`python -m interviewer.api`: serve the api with settings from the environment (exit 2 on bad config)."""

from __future__ import annotations

from interviewer.api.server import refuse, serve
from interviewer.config import ConfigError, load_settings


def main() -> None:
    try:
        settings = load_settings()
    except ConfigError as error:
        refuse(str(error))
    serve(settings)


if __name__ == "__main__":
    main()
