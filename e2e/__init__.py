"""End-to-end tests: a real Chromium (Debian's) drives the portal served on loopback; axe-core checks every page."""
