"""The errors services raise, each knowing its HTTP meaning.

Every service derives its one root error from ``ServiceError`` and its
specific errors from that root plus one of the kinds below. ``purnajual.web``
turns them into ``application/problem+json`` in one place; ``data`` becomes
extra members of the problem (for example the field at fault, or the current
state of the request).
"""

from __future__ import annotations

from typing import Any


class ServiceError(Exception):
    """Root of every service's own errors; each carries its HTTP meaning."""

    status = 400
    title = "Bad request"
    problem = "bad-request"

    def __init__(self, detail: str, **data: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.data = data


class NotFoundError(ServiceError):
    status = 404
    title = "Not found"
    problem = "not-found"


class ConflictError(ServiceError):
    """The command does not fit the current state; ``data`` says which."""

    status = 409
    title = "Conflict with the current state"
    problem = "state-conflict"


class InvalidInputError(ServiceError):
    """Input that is well-formed but breaks a rule; ``data`` names the field."""

    status = 422
    title = "Invalid input"
    problem = "invalid-input"


class BusyError(ServiceError):
    """Too many writers raced for the same record; the client may simply retry."""

    status = 503
    title = "Busy: try again"
    problem = "busy"
