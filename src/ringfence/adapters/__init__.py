"""Adapters: the imperative shell's connections to the outside world (database, carriers...)."""
