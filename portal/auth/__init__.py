"""Sessions, passwords, roles, CSRF and (later) OpenID Connect."""
