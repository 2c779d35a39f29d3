"""REST routes under /v1: parse, call the domain, return. Nothing else."""
