"""Pure policy engine for Jilin enterprise employees' basic pension.

No database, no request, no clock: every rule takes the date it applies on as an argument and reads only the
dated, sourced parameter files in ``portal/policy/parameters/``. Money is ``Decimal`` throughout.
"""
