"""Telephony providers: one Protocol (`base.py`), one module per carrier, `sandbox` embedded."""
