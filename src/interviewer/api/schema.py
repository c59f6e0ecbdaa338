"""The api's OpenAPI document, written to a file: the web client's wire types are generated from it.

`python -m interviewer.api.schema web/openapi.json` (what `npm run gen:types` runs first). The app is built
with a throwaway SQLite file and a verifier that accepts nothing: only the routes and models matter here.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path
from typing import Any

from interviewer.api.app import create_app
from interviewer.auth import Identity, InvalidCredentials
from interviewer.config import Settings
from interviewer.store import Store


class NoIdentity:
    """A verifier that accepts no token: for building the app where identities do not matter."""

    def verify(self, token: str, *, check_revoked: bool | None = None) -> Identity:
        raise InvalidCredentials("schema export: no identities")

    def ping(self) -> None:
        return None

    def close(self) -> None:
        return None


def openapi_document() -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings.model_validate({"INTERVIEWER_MODE": "test", "INTERVIEWER_DATA_DIR": tmp})
        store = Store(f"sqlite:///{Path(tmp) / 'schema.sqlite'}")
        try:
            return create_app(settings, store, NoIdentity()).openapi()
        finally:
            store.close()


def render() -> str:
    return json.dumps(openapi_document(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m interviewer.api.schema OUTPUT.json", file=sys.stderr)
        return 2
    Path(args[0]).write_text(render(), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
