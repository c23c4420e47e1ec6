"""Domain code: loan maths, rules, catalogues. Pure functions, no I/O, no HTTP, no LLM."""
