"""Use cases: the only code that changes state. Keyword-only; they flush, the caller commits."""
