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


_allow("instruments.read", "admin psychologist social_worker employment_officer researcher", "instruments:read score")
_allow("score", "admin psychologist researcher", "score")
_allow("beneficiaries.create", "admin psychologist social_worker", "beneficiaries:write")
_allow("beneficiaries.read", "admin psychologist social_worker", "beneficiaries:read")
_allow("beneficiaries.names", "admin psychologist social_worker")
_allow("beneficiaries.export", "admin social_worker")
_allow("beneficiaries.close", "admin social_worker")
_allow("administrations.write", "admin psychologist social_worker", "administrations:write")
_allow("administrations.read", "admin psychologist social_worker", "administrations:write results:read")
_allow("results.read", "admin psychologist", "results:read")
_allow("results.rescore", "admin psychologist")
_allow("results.correct", "psychologist")
_allow("reports.read", "admin psychologist social_worker", "results:read")
_allow("consents.write", "admin social_worker")
_allow("consents.read", "admin social_worker")
_allow("packets.write", "admin social_worker")
_allow("packets.registry", "admin social_worker")
_allow("packets.inbox", "employment_officer", "packets:read")
_allow("norms.read", "admin psychologist researcher", "research:read")
_allow("research.read", "admin researcher", "research:read")
_allow("audit.read", "admin")
_allow("accounts.manage", "admin")

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
