"""Use cases: the only code that changes state. One signature, f(session, *, ...); they flush, the caller commits."""
