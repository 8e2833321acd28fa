"""Development and test tools: stand-ins for outside parties (essc_provider), the demo accounts (demo, for
``portal seed --demo``), a synthetic province (synth, for ``portal synth``) and the benchmark (bench, for
``make bench``). Never loaded in production: importing this package there fails, so no configuration mistake can
switch a stand-in on or seed demo accounts."""

from portal.settings import production_environment

if production_environment():
    raise ImportError("portal.devtools is for development and tests; it cannot be loaded when PORTAL_ENV=production")
