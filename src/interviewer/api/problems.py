"""Errors as RFC 9457 `application/problem+json`, and the OpenAPI description that says so."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException as StarletteHTTPException

from interviewer.store.outage import is_transient

log = logging.getLogger(__name__)

PROBLEM_MEDIA_TYPE = "application/problem+json"
PROBLEM_BASE = "urn:interviewer:problem:"
# A database restart is over in seconds: ask again soon, not after a busy fleet's wait.
STORE_RETRY_AFTER_SECONDS = 2


class Problem(BaseModel):
    model_config = ConfigDict(extra="allow")

    type: str
    title: str
    status: int
    detail: str | None = None


class FieldError(BaseModel):
    field: str
    location: str
    message: str


class ValidationProblem(Problem):
    errors: list[FieldError]


class ConflictProblem(Problem):
    active_interview_id: str | None = None


class RateLimitProblem(Problem):
    retry_after: int


class BusyProblem(Problem):
    """Every interviewer is busy: try again after `retry_after` seconds (also the Retry-After header)."""

    retry_after: int


class ProblemError(Exception):
    """Raise anywhere in a request to answer with a problem document."""

    def __init__(
        self,
        status: int,
        slug: str,
        title: str,
        detail: str | None = None,
        *,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail or title)
        self.status = status
        self.slug = slug
        self.title = title
        self.detail = detail
        self.headers = headers or {}
        self.extra = extra


def retry_later(status: int, slug: str, title: str, detail: str, seconds: int) -> ProblemError:
    """A problem the caller should simply ask again about: after `seconds`, said both in the Retry-After
    header (for HTTP clients) and in the body's `retry_after` (for the web app's own retry)."""
    return ProblemError(
        status, slug, title, detail, headers={"Retry-After": str(seconds)}, retry_after=seconds
    )


def problem_response(
    status: int,
    slug: str,
    title: str,
    detail: str | None = None,
    *,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    body: dict[str, Any] = {"type": PROBLEM_BASE + slug, "title": title, "status": status}
    if detail is not None:
        body["detail"] = detail
    body.update(extra)
    return JSONResponse(body, status_code=status, headers=headers, media_type=PROBLEM_MEDIA_TYPE)


_STATUS_SLUGS = {
    400: ("bad-request", "Bad request"),
    401: ("unauthorized", "Unauthorized"),
    403: ("forbidden", "Forbidden"),
    404: ("not-found", "Not found"),
    405: ("method-not-allowed", "Method not allowed"),
    413: ("payload-too-large", "Request body too large"),
    415: ("unsupported-media-type", "Unsupported media type"),
}


async def _on_problem(_request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, ProblemError)
    return problem_response(
        error.status, error.slug, error.title, error.detail, headers=error.headers, **error.extra
    )


async def _on_http_error(_request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, StarletteHTTPException)
    slug, title = _STATUS_SLUGS.get(error.status_code, ("http-error", "HTTP error"))
    detail = error.detail if isinstance(error.detail, str) and error.detail != title else None
    return problem_response(error.status_code, slug, title, detail, headers=dict(error.headers or {}))


def _field_error(item: Any) -> FieldError:
    loc = [str(part) for part in item.get("loc", ())]
    location = loc[0] if loc else "body"
    field = ".".join(loc[1:]) or location
    return FieldError(field=field, location=location, message=str(item.get("msg", "invalid")))


async def _on_validation_error(_request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    errors = [_field_error(item) for item in error.errors()]
    detail = "; ".join(f"{e.field}: {e.message}" for e in errors)[:1000]
    return problem_response(
        422,
        "validation-error",
        "Invalid request",
        detail,
        errors=[e.model_dump() for e in errors],
    )


async def _on_store_error(request: Request, error: Exception) -> JSONResponse:
    if not is_transient(error):
        return await _on_unexpected(request, error)
    log.warning("the store is unavailable: %s", type(error).__name__)
    retry = STORE_RETRY_AFTER_SECONDS
    unavailable = retry_later(
        503,
        "unavailable",
        "Briefly unavailable",
        f"the service could not reach its database; please try again in {retry} seconds",
        retry,
    )
    return await _on_problem(request, unavailable)


async def _on_unexpected(_request: Request, error: Exception) -> JSONResponse:
    log.error("unhandled error: %s", type(error).__name__, exc_info=error)
    return problem_response(500, "internal-error", "Internal server error")


def install_problem_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ProblemError, _on_problem)
    app.add_exception_handler(StarletteHTTPException, _on_http_error)
    app.add_exception_handler(RequestValidationError, _on_validation_error)
    app.add_exception_handler(DBAPIError, _on_store_error)
    app.add_exception_handler(Exception, _on_unexpected)


def problem_doc(model: type[Problem], description: str, **headers: str) -> dict[str, Any]:
    doc: dict[str, Any] = {"model": model, "description": description}
    if headers:
        doc["headers"] = {
            name: {"description": text, "schema": {"type": "string"}} for name, text in headers.items()
        }
    return doc


def install_problem_openapi(app: FastAPI) -> None:
    """Describe every 4xx/5xx body as application/problem+json (FastAPI would say application/json)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = get_openapi(
            title=app.title,
            version=app.version,
            description=app.description,
            routes=app.routes,
        )
        for path_item in schema.get("paths", {}).values():
            for operation in path_item.values():
                for status, response in operation.get("responses", {}).items():
                    content = response.get("content")
                    if status[:1] in "45" and content and "application/json" in content:
                        response["content"] = {PROBLEM_MEDIA_TYPE: content["application/json"]}
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
