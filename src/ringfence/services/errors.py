"""Errors the service layer raises; entrypoints translate them (HTTP status, CLI message)."""

from __future__ import annotations


class ServiceError(Exception):
    """Base for errors that carry a message safe to show to the caller."""


class NotFound(ServiceError):
    """The id does not exist for this tenant (another tenant's id is indistinguishable)."""


class InvalidField(ServiceError):
    """A field's value is unacceptable for a reason the schema alone cannot see."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class InvalidFields(InvalidField):
    """Several fields wrong at once, so a form can show every problem in one answer (the API
    answers each with its own entry); it reads as the first for code that expects one."""

    def __init__(self, errors: list[InvalidField]) -> None:
        super().__init__(errors[0].field, errors[0].message)
        self.errors = errors


class Conflict(ServiceError):
    """The change would break a uniqueness or integrity rule."""
