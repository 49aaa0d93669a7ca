"""Use cases: each takes a unit of work, the caller's tenant scope and a clock."""
