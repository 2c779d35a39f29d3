"""Domain errors. They carry no HTTP status; ``api/errors.py`` maps them."""

from __future__ import annotations

from scoring import ProforientError


class DomainError(ProforientError):
    """Base for refusals the user can act on; ``detail`` says what and why."""

    def __init__(self, detail: str, **extra: object) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra


class NotFound(DomainError):
    """The thing does not exist, or the caller may not know that it does."""


class CodeExpired(NotFound):
    """A hand-over code that was valid once but has passed its expiry (a new one can be made)."""


class Forbidden(DomainError):
    """The caller is known but their role or scope does not allow this."""


class NotAuthenticated(DomainError):
    """No valid session or API key."""


class Conflict(DomainError):
    """The request clashes with the current state (already submitted, idempotency key reuse, …)."""


class ConsentRequired(Conflict):
    """A packet may not go out: no valid consent for this addressee and these parts."""


class Invalid(DomainError):
    """The request is well-formed but its content is not acceptable (names the field)."""


class TooManyAttempts(DomainError):
    """Too many failed attempts (sign-in, hand-over codes) from this account or address: paused for a while."""

    def __init__(self, detail: str, retry_after: int, **extra: object) -> None:
        super().__init__(detail, **extra)
        self.retry_after = retry_after


class BreakGlassRequired(Forbidden):
    """The admin reads no beneficiary data except through an audited emergency read with a reason."""
