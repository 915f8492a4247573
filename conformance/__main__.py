"""``python -m conformance --target ROOT``: see :mod:`conformance.cli`."""

from conformance.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
