"""CRC-64/XZ throughput of the code checksum on 100 MB of random bytes (the package limit).

Run it with `python benchmarks/checksum.py`.
"""

from __future__ import annotations

import os
import time

from service.emulator.checksum import code_checksum

SIZE = 100 * 1024 * 1024


def main() -> None:
    data = os.urandom(SIZE)
    best = float("inf")
    for _ in range(5):
        started = time.perf_counter()
        code_checksum(data)
        best = min(best, time.perf_counter() - started)
    print(f"code_checksum: {SIZE / best / 1e6:,.0f} MB/s ({best * 1000:.1f} ms for 100 MiB)")


if __name__ == "__main__":
    main()
