"""The HTTP channel: FastAPI app factory, routes and the error mapping."""
