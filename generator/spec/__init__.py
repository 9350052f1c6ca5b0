"""The versioned spec language: models (shape) and checks (meaning)."""
