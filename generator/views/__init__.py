"""Views of a plan: text, JSON, Mermaid."""
