"""Request and response bodies (pydantic v2). Field names are the API's contract."""
