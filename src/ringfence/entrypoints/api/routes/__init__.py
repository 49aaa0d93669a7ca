"""Route modules, one per resource that needs more than the generic CRUD."""
