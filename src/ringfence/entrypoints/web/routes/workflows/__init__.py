"""Automation → Workflows pages: the list and its actions (`pages`), the editor (`editor`, with
its state in `editor_state` and its saves in `saves`), the forms of steps and sections, and the
views they render from (`views`)."""
