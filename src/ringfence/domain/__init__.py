"""The pure core: value objects and rules. No I/O, no clock reads, no ORM in here."""
