"""Documents the portal renders for people to keep or print: the insurance certificate's PDF (certificate.py), and
award letters and any other PDF that follows go here too.

A document is layout only: it gets what it shows from a service and returns bytes. It may use the policy, the
models and i18n, never the services or the web (they call it, not the other way round).
"""
