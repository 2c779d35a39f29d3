"""Who may do what: one table of permissions, deny by default.

A ``Principal`` is a signed-in user (with a role) or an API client (with
scopes). ``require`` raises ``Forbidden`` unless the action is listed for the
role or one of the scopes. Row-level rules (an employment officer sees only
packets addressed to their organisation; researchers never see names) are
applied by the domain functions on top of this.
"""

from __future__ import annotations

from dataclasses import dataclass

from .errors import Forbidden

# action → (roles allowed, API scopes allowed)
POLICY: dict[str, tuple[frozenset[str], frozenset[str]]] = {}


def _allow(action: str, roles: str, scopes: str = "") -> None:
    POLICY[action] = (frozenset(roles.split()), frozenset(scopes.split()))


STAFF_ROLES = "admin psychologist social_worker employment_officer researcher manager"

_allow("instruments.read", STAFF_ROLES, "instruments:read score")
_allow("score", "psychologist researcher", "score")
_allow("beneficiaries.create", "psychologist social_worker", "beneficiaries:write")
_allow("beneficiaries.read", "psychologist social_worker", "beneficiaries:read")
_allow("beneficiaries.names", "psychologist social_worker")
_allow("beneficiaries.export", "social_worker")
_allow("beneficiaries.close", "social_worker")
_allow("administrations.write", "psychologist social_worker", "administrations:write")
_allow("administrations.read", "psychologist social_worker", "administrations:write results:read")
_allow("results.read", "psychologist", "results:read")
_allow("results.rescore", "psychologist")
_allow("results.correct", "psychologist")
_allow("reports.read", "psychologist social_worker", "results:read")
_allow("consents.write", "social_worker")
_allow("consents.read", "social_worker")
_allow("packets.write", "social_worker")
_allow("packets.registry", "social_worker")
_allow("packets.inbox", "employment_officer", "packets:read")
# Outcomes after the packet (issue 16). The social worker records and reads them for any case
# ("outcomes.all_cases"); an employment officer or an employment system's client only for a person
# whose packet was sent to their organisation, with a valid consent naming the outcomes part
# (``api.domain.outcomes``).
_allow("outcomes.write", "social_worker employment_officer", "outcomes:write")
_allow("outcomes.read", "social_worker employment_officer", "outcomes:write")
_allow("outcomes.all_cases", "social_worker")
_allow("followups.schedule", "social_worker")
_allow("timeline.read", "social_worker psychologist")
"""The case timeline: questionnaires, packets, trainings, placement and follow-ups, with reliable change."""
_allow("indicators.read", "manager")
"""Programme indicators: aggregates only, no names, no codes (the fund's management)."""
_allow("norms.read", "admin psychologist researcher", "research:read")
_allow("research.read", "researcher", "research:read")
_allow("studies.manage", "researcher")
"""Studies: define, give out participation codes, follow progress, export, analyse, build and publish norms."""
_allow("studies.enrol", "social_worker")
"""A fund beneficiary joins a study only through a consent their social worker records."""
# The admin runs the service: accounts, API clients, organisations and settings, the audit log.
# No beneficiary data (names, contacts, results, reports, exports) except by an emergency read
# that needs a reason and is audited loudly (``beneficiaries.break_glass``).
_allow("audit.read", "admin")
_allow("accounts.manage", "admin")
_allow("settings.read", "admin")
_allow("beneficiaries.break_glass", "admin")
_allow("account.own", STAFF_ROLES)
"""One's own account: password, second factor, sessions (every signed-in person)."""
_allow("account.totp", "admin psychologist")
"""Who may add a second factor (TOTP): the roles that see the most."""

# Instrument models a social worker administers (intake forms); the rest are the psychologist's.
SOCIAL_WORKER_MODELS = frozenset({"intake"})


@dataclass(frozen=True)
class Principal:
    kind: str  # "user" | "client" | "system" | "respondent"
    id: int
    name: str
    role: str | None = None
    organisation: str | None = None
    scopes: frozenset[str] = frozenset()
    full_name: str | None = None
    """What pages show for a user (the login where no full name was given)."""
    session_id: str | None = None
    """The server-side session this principal came with (a browser), to end it on sign-out."""

    @property
    def display(self) -> str:
        return self.full_name or self.name

    @property
    def actor(self) -> str:
        """How the audit log names this principal."""
        return f"{self.kind}:{self.name}"

    def can(self, action: str) -> bool:
        roles, scopes = POLICY.get(action, (frozenset(), frozenset()))
        if self.kind == "user":
            return self.role in roles
        if self.kind == "client":
            return bool(self.scopes & scopes)
        return self.kind == "system"

    def require(self, action: str) -> None:
        if not self.can(action):
            raise Forbidden(f"{self.actor} may not {action.replace('.', ': ')}")


SYSTEM = Principal(kind="system", id=0, name="proforient")
