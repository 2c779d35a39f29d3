"""Stateful domain operations (beneficiaries, administrations, consents, packets, audit).

Each function takes a SQLAlchemy session and a ``Principal`` and does one unit
of work; routes and CLI commands are thin wrappers over them.
"""
