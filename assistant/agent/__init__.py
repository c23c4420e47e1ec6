"""The conversation engine: session state, the offline dialogue manager, the LLM engine, guards."""
