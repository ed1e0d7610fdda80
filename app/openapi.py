"""The OpenAPI document as the service answers (API.md: "The service's own OpenAPI document
states exactly what it does").

Litestar documents a 400 ``{status_code, detail, extra}`` on every route and no other error;
the service answers ``{"error": {"message": ...}}`` (:mod:`app.errors`) and 422
``{"detail": [{loc, msg, type}]}``. :func:`describe` rewrites the generated document once:

- every error response carries the body actually sent (``ErrorBody`` or
  ``ValidationErrorBody``);
- the status codes every route can answer by the way requests are handled: 400 (malformed
  JSON) and 413 where there is a body, 422 where there is a body or a parameter, 401 on
  every route behind a token (and the webhook receivers, for a bad signature), 404 where the
  path names an object or the ``x-monite-entity-id`` header an entity, 409 on a change of a
  named object (``PATCH``/``DELETE``, and ``POST`` actions under an object's path); plus the
  ones a route declares itself (:data:`EXTRA_STATUSES`);
- request bodies refuse unknown fields (``additionalProperties: false``, as
  :class:`app.schemas.Request` does), and keep their lower bounds of 0 (Litestar drops a
  ``ge=0``/``gt=0`` bound as falsy: :func:`_zero_bounds` puts it back);
- ``/metrics`` is Prometheus text.

The render plugins below serve the described document (JSON, Swagger UI and ReDoc).
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import msgspec.inspect
from litestar import Request
from litestar.openapi.plugins import JsonRenderPlugin, RedocRenderPlugin, SwaggerRenderPlugin

from app import schemas

ERROR_BODY = "ErrorBody"
VALIDATION_BODY = "ValidationErrorBody"

_SCHEMAS: dict[str, Any] = {
    ERROR_BODY: {
        "type": "object",
        "description": "Every error but a validation error (API.md: Errors).",
        "required": ["error"],
        "properties": {
            "error": {
                "type": "object",
                "required": ["message"],
                "properties": {"message": {"type": "string"}},
            }
        },
    },
    VALIDATION_BODY: {
        "type": "object",
        "description": "A validation error: each problem's location, message and kind.",
        "required": ["detail"],
        "properties": {
            "detail": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["loc", "msg", "type"],
                    "properties": {
                        "loc": {
                            "type": "array",
                            "items": {"anyOf": [{"type": "string"}, {"type": "integer"}]},
                        },
                        "msg": {"type": "string"},
                        "type": {"type": "string"},
                    },
                },
            }
        },
    },
}

_DESCRIPTIONS = {
    "400": "Malformed request (e.g. a body that is not JSON)",
    "401": "Missing, invalid, expired or revoked token (or a webhook's bad signature)",
    "404": "No such object for this partner or entity",
    "409": "The object's current state does not allow this",
    "413": "Request body too large",
    "422": "Validation error",
    "429": "Too many requests; see Retry-After",
    "502": "The accounting provider refused the request",
    "503": "The accounting provider is unavailable; see Retry-After",
}

#: Status codes a route answers beyond the rules in this module's docstring, by operation id.
EXTRA_STATUSES: dict[str, tuple[str, ...]] = {
    "post_auth_token": ("401",),
    "post_accounting_connections_id_sync": ("429",),
    # a second active connection, or no provider key (409); the provider refused us or is down
    "post_accounting_connections": ("409", "502", "503"),
    "post_accounting_connections_id_disconnect": ("502", "503"),
    # the receivers read the body themselves: 400 malformed, 413 over 1 MiB
    "post_webhooks_codat": ("400", "413"),
    "post_webhooks_codat_partner": ("400", "413"),
}

_UNAUTHENTICATED = ("/v1/auth/token", "/health/", "/metrics", "/schema")
_WEBHOOKS = "/v1/webhooks/"
_METHODS = ("get", "post", "put", "patch", "delete")


def _error_response(status: str) -> dict[str, Any]:
    body = VALIDATION_BODY if status == "422" else ERROR_BODY
    return {
        "description": _DESCRIPTIONS.get(status, "Error"),
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{body}"}}},
    }


def _statuses(path: str, method: str, op: dict[str, Any]) -> set[str]:
    params = op.get("parameters") or []
    has_body = "requestBody" in op
    out: set[str] = set()
    if has_body:
        out |= {"400", "413", "422"}
    if params:
        out.add("422")
    if path.startswith("/v1/") and not path.startswith(_UNAUTHENTICATED):
        out.add("401")
    in_path = any(p.get("in") == "path" for p in params)
    entity_header = any(
        p.get("in") == "header" and p.get("name", "").lower() == "x-monite-entity-id"
        for p in params
    )
    if in_path or (entity_header and path.startswith("/v1/")):
        out.add("404")  # a path parameter of the wrong type does not match a route either
    if in_path and method in ("patch", "delete", "post") and not path.startswith(_WEBHOOKS):
        out.add("409")
    out.update(EXTRA_STATUSES.get(op.get("operationId", ""), ()))
    return out


def _forbid_unknown(schema: dict[str, Any], components: dict[str, Any], seen: set[str]) -> None:
    """``additionalProperties: false`` on every object a request body reaches."""
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        if name not in seen and name in components:
            seen.add(name)
            _forbid_unknown(components[name], components, seen)
        return
    if schema.get("type") == "object" and "properties" in schema:
        schema.setdefault("additionalProperties", False)
    for key in ("oneOf", "anyOf", "allOf"):
        for sub in schema.get(key) or []:
            _forbid_unknown(sub, components, seen)
    for sub in (schema.get("properties") or {}).values():
        _forbid_unknown(sub, components, seen)
    if isinstance(schema.get("items"), dict):
        _forbid_unknown(schema["items"], components, seen)


def _request_types(base: type = schemas.Request) -> Iterator[type]:
    for sub in base.__subclasses__():
        yield sub
        yield from _request_types(sub)


def _component_names(cls: type) -> Iterator[str]:
    """The names Litestar may give ``cls``'s component (the shortest unique dotted suffix)."""
    parts = cls.__module__.split(".")
    for start in range(len(parts), -1, -1):
        yield "_".join([*parts[start:], cls.__qualname__])


def _zero_bounds(components: dict[str, Any]) -> None:
    """``minimum: 0`` / ``exclusiveMinimum: 0`` on request fields declared ``ge=0``/``gt=0``."""
    for cls in _request_types():
        component = next((components[n] for n in _component_names(cls) if n in components), None)
        if component is None:
            continue
        info = msgspec.inspect.type_info(cls)
        for field in getattr(info, "fields", ()):
            prop = component.get("properties", {}).get(field.encode_name)
            kinds = field.type.types if isinstance(field.type, msgspec.inspect.UnionType) else ()
            for kind in kinds or (field.type,):
                if prop is None or not isinstance(
                    kind, msgspec.inspect.IntType | msgspec.inspect.FloatType
                ):
                    continue
                if kind.ge == 0:
                    prop.setdefault("minimum", 0)
                if kind.gt == 0:
                    prop.setdefault("exclusiveMinimum", 0)


def describe(document: dict[str, Any]) -> dict[str, Any]:
    """A copy of Litestar's generated ``document`` that says what the service does."""
    doc = copy.deepcopy(document)
    components = doc.setdefault("components", {}).setdefault("schemas", {})
    components.update(copy.deepcopy(_SCHEMAS))
    _zero_bounds(components)
    seen: set[str] = set()
    for path, item in (doc.get("paths") or {}).items():
        for method in _METHODS:
            op = item.get(method)
            if not isinstance(op, dict):
                continue
            responses = op.setdefault("responses", {})
            for status in list(responses):
                if status.startswith(("4", "5")):
                    del responses[status]
            for status in sorted(_statuses(path, method, op)):
                responses[status] = _error_response(status)
            body = op.get("requestBody", {}).get("content", {}).get("application/json")
            if body and isinstance(body.get("schema"), dict):
                _forbid_unknown(body["schema"], components, seen)
    metrics = (doc.get("paths") or {}).get("/metrics", {}).get("get")
    if metrics is not None:
        metrics["responses"] = {
            "200": {
                "description": "Prometheus metrics (text exposition format)",
                "content": {"text/plain": {"schema": {"type": "string"}}},
            }
        }
    return doc


class _Described:
    """The described document, built once from the (cached) generated one."""

    def __init__(self) -> None:
        self._source: dict[str, Any] | None = None
        self._described: dict[str, Any] = {}

    def __call__(self, document: dict[str, Any]) -> dict[str, Any]:
        if self._source is not document:
            self._described, self._source = describe(document), document
        return self._described


class DescribedJsonRenderPlugin(JsonRenderPlugin):
    """``/schema/openapi.json``: the described document."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._described = _Described()

    def render(self, request: Request, openapi_schema: dict[str, Any]) -> bytes:
        return super().render(request, self._described(openapi_schema))


class DescribedSwaggerRenderPlugin(SwaggerRenderPlugin):
    """Swagger UI on the described document."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._described = _Described()

    def render(self, request: Request, openapi_schema: dict[str, Any]) -> bytes:
        return super().render(request, self._described(openapi_schema))


class DescribedRedocRenderPlugin(RedocRenderPlugin):
    """ReDoc on the described document (``/schema/redoc``); give it a local ``js_url`` and
    ``google_fonts=False`` so the page loads nothing from another host."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._described = _Described()

    def render(self, request: Request, openapi_schema: dict[str, Any]) -> bytes:
        return super().render(request, self._described(openapi_schema))
