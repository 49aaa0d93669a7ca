"""Virtual-clock simulation of the dispatcher, and the yardsticks it is measured with.

The dispatcher issue asks for a simulation that prints `violations` from "an independent audit
that re-reads the stored call log and checks every platform rule" and `lawful_capacity`, "the
most dials the rules allowed for this population", so that utilization = dials /
lawful_capacity can be held to its target.

Both yardsticks are pure (no I/O, no clock) and deliberately independent of
`ringfence.domain.compliance`: they re-derive every rule from the product description, so a bug
in the engine shows up as a violation or as a utilization gap instead of being repeated.

- `audit`: re-checks a stored call log dial by dial (`audit_dials`).
- `capacity`: the exact maximum number of dials the rules allow a population over a time range
  (`lawful_capacity`, `capacity_report`).
"""
