"""HTTP only: parse, call a service, render."""
