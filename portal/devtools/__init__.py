"""Development and test tools that stand in for outside parties. Never loaded in production: importing this
package there fails, so no configuration mistake can switch a stand-in on."""

from portal.settings import production_environment

if production_environment():
    raise ImportError("portal.devtools is for development and tests; it cannot be loaded when PORTAL_ENV=production")
