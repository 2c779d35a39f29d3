"""The service layer: CLI, (later) REST API and web UI; the only layer that composes the others."""
