"""``python -m portal.devtools.bench``: print the measured figures (``make bench``)."""

from portal.devtools.bench.queue import main

if __name__ == "__main__":  # not when a spawned handler process imports this module as __mp_main__
    raise SystemExit(main())
