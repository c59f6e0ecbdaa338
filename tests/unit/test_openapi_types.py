"""web/openapi.json (which the web client's wire types are generated from) is the api's document today."""

from __future__ import annotations

from pathlib import Path

from interviewer.api.schema import render

COMMITTED = Path(__file__).parent.parent.parent / "web" / "openapi.json"


def test_the_committed_openapi_document_is_current() -> None:
    assert COMMITTED.read_text(encoding="utf-8") == render(), (
        "the api changed: run `npm run gen:types` in web/ and commit web/openapi.json and web/src/api.gen.ts"
    )


def test_the_report_is_in_the_schema() -> None:
    document = render()
    for name in ('"Report"', '"CompetencyResult"', '"PlanPreview"'):
        assert name in document
