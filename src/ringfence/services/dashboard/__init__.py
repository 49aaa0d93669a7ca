"""The outbound dashboard's queries: tiles, trends, caller IDs, the call log, CSV export."""
