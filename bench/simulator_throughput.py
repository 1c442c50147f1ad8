"""Simulator throughput over real HTTP: requests/s for /coins/markets (250 + sparkline) and /simple/price.

Prints one JSON object per result. Usage: python -m bench.simulator_throughput [--seconds 5] [--clients 16]
"""

from __future__ import annotations

import argparse
import asyncio
import time

import httpx

from bench.common import emit
from geckolake.simulator import SimulatorConfig, running_simulator

CASES = {
    "coins_markets_250_sparkline": "/coins/markets?vs_currency=usd&per_page=250&sparkline=true",
    "simple_price": "/simple/price?ids=bitcoin,ethereum,tether&vs_currencies=usd,eur",
}


async def hammer(url: str, seconds: float, clients: int) -> tuple[int, float]:
    done = 0
    stop = time.perf_counter() + seconds

    async def worker(client: httpx.AsyncClient) -> None:
        nonlocal done
        while time.perf_counter() < stop:
            r = await client.get(url)
            r.raise_for_status()
            done += 1

    start = time.perf_counter()
    async with httpx.AsyncClient(limits=httpx.Limits(max_connections=clients)) as client:
        await client.get(url)  # warm the per-minute body cache, as a steady client would find it
        start = time.perf_counter()
        await asyncio.gather(*(worker(client) for _ in range(clients)))
    return done, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--coins", type=int, default=2000)
    args = parser.parse_args()
    cfg = SimulatorConfig(port=0, coins=args.coins, plan="unlimited")
    with running_simulator(cfg) as base:
        for name, path in CASES.items():
            n, elapsed = asyncio.run(hammer(base + path, args.seconds, args.clients))
            params = {"path": path, "clients": args.clients, "seconds": args.seconds, "coins": args.coins}
            emit(f"simulator_{name}", "throughput", n / elapsed, "requests/s", **params)


if __name__ == "__main__":
    main()
