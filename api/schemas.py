"""Request bodies of the REST API (pydantic). Unknown fields are refused."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

Short = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Answer = str | int | float | None


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Login(Body):
    username: Short
    password: Annotated[str, StringConstraints(min_length=1, max_length=200)]


class ScoreItem(Body):
    id: Short | None = None
    answers: dict[str, Answer]
    aspirations: list[Short] | None = Field(default=None, max_length=3)
    seconds: float | None = Field(default=None, ge=0)


class ScoreRequest(Body):
    instrument: Short
    version: Short | None = None
    administrations: list[ScoreItem] = Field(min_length=1)


class BeneficiaryCreate(Body):
    name: Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)] | None = None
    contact: Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)] | None = None
    gender: str | None = None
    birth_year: int | None = None


class AdministrationCreate(Body):
    beneficiary: Short
    instrument: Short
    version: Short | None = None
    mode: str = "respondent"


class AnswersSave(Body):
    answers: dict[Annotated[str, StringConstraints(max_length=64)], Answer] = Field(max_length=500)
    aspirations: list[Short] | None = Field(default=None, max_length=3)
    seconds: float | None = Field(default=None, ge=0)


class ConsentCreate(Body):
    addressee: Short
    scope: list[Short] = Field(min_length=1)
    expires_at: dt.datetime | None = None
    note: Annotated[str, StringConstraints(max_length=2000)] | None = None


class PacketCreate(Body):
    beneficiary: Short
    addressee: Short
    parts: list[Short] = Field(min_length=1)


class UserCreate(Body):
    username: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_.-]{2,79}$")]
    password: Annotated[str, StringConstraints(min_length=10, max_length=200)]
    role: Short
    organisation: Short | None = None


class ApiClientCreate(Body):
    name: Short
    scopes: list[Short] = Field(min_length=1)
    organisation: Short | None = None
