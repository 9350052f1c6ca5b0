"""The plan: pure data and pure functions, one module per delivery engine."""
