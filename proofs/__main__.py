"""``python -m proofs``: run every proof check and print the ledger; exit 1 on any ``FAIL``."""

from __future__ import annotations

import sys
import time

from proofs import registry
from proofs._ledger import main

if __name__ == "__main__":
    started = time.perf_counter()
    status = main(registry())
    print(f"({time.perf_counter() - started:.1f} s)")
    sys.exit(status)
