"""Pure policy engine for Jilin enterprise employees' basic pension.

No database, no request, no clock: every rule takes the date it applies on as an argument and reads only the
dated, sourced parameter files in ``portal/policy/parameters/``. Money is ``Decimal`` throughout.

- ``parameters``: ``param(name).at(date, region=None) -> Used``; ``all_parameters()`` for the parameters page.
- ``rules.contribution``, ``rules.late_fee``, ``rules.retirement``, ``rules.divisor``, ``rules.pension``,
  ``rules.interest``, ``rules.contribution_index``, ``rules.transfer``, ``rules.gap_sharing``, ``rules.survivor``:
  pure rules,
  each returning a frozen result with ``explanation`` (``.steps``, ``.parameters``) and ``provisional``.
- ``estimate.estimate(...)``: the public estimator; ``cli.main(argv)``: JSON in, JSON out.
"""
