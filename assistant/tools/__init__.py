"""Agent tools: typed functions with pydantic models in and out, served from one registry."""
