"""Block Kit builders: each function takes domain objects and returns blocks and a text fallback."""
