"""W0 side by side (issue 18): `geckolake run` vs dlt vs a bare HTTP loop vs the import floor.

The same W0 as ``whole_command`` (unlimited-rate ``--clean`` simulator in this process; markets
for 2,000 coins in 8 pages + 365 days of daily history for the top 100 = 108 calls, extras off),
run by each command as a whole process:

* ``geckolake``: ``.venv/bin/geckolake run`` (empty lake → bronze, silver, gold, analytics, checks);
* ``geckolake-spark``: the same with ``--engine spark`` (each batch merged on a local Spark session,
  ``local[*]``, started at the first batch): the distributed engine a user could pick instead, on
  the same work (left out when no Java is found);
* ``dlt``: dlt's ``rest_api`` source into DuckDB, in dlt's own virtualenv (``bench/peers``), the
  same calls; it lands the rows and stops there (no gold, analytics or checks);
* ``bare``: one ``httpx.Client`` loop making the same calls, bodies kept in memory
  (``whole_command.BARE``): what the calls alone cost;
* ``floor``: a fresh interpreter importing PyIceberg's SQL catalog and Arrow IO, DuckDB and httpx
  (``whole_command.FLOOR_IMPORTS``): the start-up no lake-writing geckolake command can beat.

After one untimed warm-up of each (bytecode cache, see ``common.child_env``), BENCH_VERSUS_ROUNDS
rounds (default 5) each run every command once, in A B C D order in even rounds and D C B A in odd
ones, every command with a fresh lake / pipeline folder. Each process is measured alone
(``measure.run_measured``: wall, CPU user/sys and peak RSS from ``wait4``); after each, the
simulator's ``GET /__stats`` gives its calls, which must be the same per endpoint for geckolake,
dlt and the bare loop in every round.

Reported as JSON lines: per command the median, min and max of each figure; per pair the median of
the per-round ratios (both ran in the same round, so load swings on a shared machine largely
cancel), its min–max and the ratio of the medians. A markdown table goes to stderr.
Knobs: BENCH_VERSUS_ROUNDS, BENCH_VERSUS_COMMANDS (default ``geckolake,geckolake-spark,dlt,bare,floor``),
BENCH_VERSUS_DLT_FORMAT (``parquet``, dlt's fast loader files, default; ``default`` for dlt's own
default, INSERT statements).
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import httpx

from bench import peers
from bench.common import child_env, emit, log
from bench.measure import Sample, order_for_round, pair_ratios, run_measured, summarise
from bench.whole_command import (
    BARE,
    COINS,
    FLOOR_IMPORTS,
    GECKOLAKE,
    HISTORY_COINS,
    HISTORY_DAYS,
    NOW,
    geckolake_env,
    spec,
)
from geckolake.simulator import SimulatorConfig, running_simulator

TARGETS = {("geckolake", "dlt"): 0.4}  # issue 18: W0 wall ≤ 0.4 × dlt's in the same run
COMMANDS = ("geckolake", "geckolake-spark", "dlt", "bare", "floor")
CALLING = ("geckolake", "geckolake-spark", "dlt", "bare")  # the commands that make W0's calls (the floor makes none)

Command = Callable[[str], tuple[list[str], dict[str, str]]]  # a fresh work folder -> argv, env


def commands(url: str, dlt_format: str | None) -> dict[str, Command]:
    w0 = spec(url)

    def geckolake(work: str) -> tuple[list[str], dict[str, str]]:
        return [str(GECKOLAKE), "run"], geckolake_env(url, str(Path(work) / "lake"))

    def geckolake_spark(work: str) -> tuple[list[str], dict[str, str]]:
        return [str(GECKOLAKE), "run", "--engine", "spark"], geckolake_env(url, str(Path(work) / "lake"))

    def dlt(work: str) -> tuple[list[str], dict[str, str]]:
        python = peers.ensure(peers.DLT)
        arg = json.dumps({**w0, "workdir": work, "loader_file_format": dlt_format})
        return [str(python), str(peers.DLT.script_path), arg], child_env()

    def bare(work: str) -> tuple[list[str], dict[str, str]]:
        return [sys.executable, "-c", BARE, json.dumps(w0)], child_env()

    def floor(work: str) -> tuple[list[str], dict[str, str]]:
        return [sys.executable, "-c", FLOOR_IMPORTS], child_env()

    return {"geckolake": geckolake, "geckolake-spark": geckolake_spark, "dlt": dlt, "bare": bare, "floor": floor}


def calls_since_reset(root: str) -> dict[str, dict[str, int]]:
    body = httpx.get(root + "/__stats").json()
    httpx.post(root + "/__reset")
    return body["endpoints"]  # type: ignore[no-any-return]


def markdown(
    summaries: dict[str, dict[str, dict[str, float]]],
    ratios: dict[str, dict[str, float]],
    cpu_ratios: dict[str, dict[str, float]] | None = None,
) -> str:
    """The versus table as docs/benchmarks.md shows it (medians, min–max)."""
    lines = [
        "| command | wall s (min–max) | CPU user+sys s | peak RSS MiB | calls |",
        "|---|---|---|---|---|",
    ]
    for name, s in summaries.items():
        w = s["wall_s"]
        cpu = s["cpu_user_s"]["median"] + s["cpu_sys_s"]["median"]
        # A command whose children outlive its waits (PySpark's JVM): their share, sampled, shown apart.
        extra_cpu = s.get("descendants_cpu_s", {}).get("median", 0.0)
        tree_rss = s.get("tree_peak_rss_mib", {}).get("median", 0.0)
        cpu_txt = f" + JVM/children {extra_cpu:.2f}" if extra_cpu > 0.05 else ""
        rss_txt = f" (tree {tree_rss:.0f})" if tree_rss > 1.05 * s["peak_rss_mib"]["median"] else ""
        lines.append(
            f"| {name} | {w['median']:.2f} ({w['min']:.2f}–{w['max']:.2f}) | {cpu:.2f} "
            f"({s['cpu_user_s']['median']:.2f} + {s['cpu_sys_s']['median']:.2f}){cpu_txt} | "
            f"{s['peak_rss_mib']['median']:.0f}{rss_txt} | {s['calls']['median']:.0f} |"
        )
    lines += [
        "",
        "| pair | wall ratio, median of rounds (min–max) | ratio of medians | CPU ratio, median of rounds |",
        "|---|---|---|---|",
    ]
    for pair, r in ratios.items():
        c = (cpu_ratios or {}).get(pair)
        cpu_txt = f"{c['median']:.2f}" if c else "–"
        lines.append(
            f"| {pair} | {r['median']:.2f} ({r['min']:.2f}–{r['max']:.2f}) | {r['ratio_of_medians']:.2f} | {cpu_txt} |"
        )
    return "\n".join(lines)


Once = Callable[[str, str], tuple[Sample, dict[str, dict[str, int]]]]  # (command, fresh folder) -> cost, calls


def rounds_of(
    names: list[str], rounds: int, once: Once, tmp: str
) -> Iterator[tuple[int, dict[str, Sample], dict[str, dict[str, dict[str, int]]]]]:
    """After one untimed warm-up of each command (bytecode cache; checks each works), ``rounds``
    rounds of every command once, A B C… in even rounds and …C B A in odd ones, each in a fresh
    folder under ``tmp``: yields the round's number, costs and calls per endpoint by command."""
    for name in names:
        once(name, os.path.join(tmp, f"warm-{name}"))
    for i in range(rounds):
        row: dict[str, Sample] = {}
        seen_by: dict[str, dict[str, dict[str, int]]] = {}
        for name in order_for_round(names, i):
            row[name], seen_by[name] = once(name, os.path.join(tmp, f"r{i}-{name}"))
        yield i, row, seen_by


def report(
    bench: str,
    names: list[str],
    results: list[dict[str, Sample]],
    params: dict[str, object],
    targets: dict[tuple[str, str], float] | None = None,
) -> None:
    """Emit each command's medians (min, max, every round) and each pair's per-round ratios as JSON
    lines named ``bench``, and log the markdown table. A pair in ``targets`` carries its wall-ratio
    target and whether the median met it."""
    summaries = {n: summarise([r[n] for r in results]) for n in names}
    for n, s in summaries.items():
        runs = [r[n].as_dict() for r in results]
        for field, unit in (("wall_s", "s"), ("cpu_user_s", "s"), ("cpu_sys_s", "s"), ("peak_rss_mib", "MiB"),
                            ("tree_peak_rss_mib", "MiB"), ("descendants_cpu_s", "s")):  # fmt: skip
            emit(bench, field, s[field]["median"], unit, command=n, min=round(s[field]["min"], 4),
                 max=round(s[field]["max"], 4), runs=[r[field] for r in runs], **params)  # fmt: skip
        emit(bench, "calls", s["calls"]["median"], "calls", command=n, **params)
    ratios: dict[str, dict[str, float]] = {}
    cpu_ratios: dict[str, dict[str, float]] = {}
    for a, b in [(a, b) for a in names for b in names if names.index(a) < names.index(b)]:
        for field in ("wall_s", "cpu_s", "peak_rss_mib"):
            r = pair_ratios(results, a, b, field)
            if field == "wall_s":
                ratios[f"{a}/{b}"] = r
            elif field == "cpu_s":
                cpu_ratios[f"{a}/{b}"] = r
            target = (targets or {}).get((a, b)) if field == "wall_s" else None
            verdict = {} if target is None else {"target": target, "met": r["median"] <= target}
            emit(bench, f"ratio_{field}", r["median"], "ratio", pair=f"{a}/{b}", min=round(r["min"], 4),
                 max=round(r["max"], 4), ratio_of_medians=round(r["ratio_of_medians"], 4), **verdict,
                 **params)  # fmt: skip
    log(markdown(summaries, ratios, cpu_ratios))


def main() -> None:
    rounds = int(os.environ.get("BENCH_VERSUS_ROUNDS", "5"))
    default = [c for c in COMMANDS if c != "geckolake-spark" or shutil.which("java") or os.environ.get("JAVA_HOME")]
    names = [c for c in os.environ.get("BENCH_VERSUS_COMMANDS", ",".join(default)).split(",") if c]
    fmt = os.environ.get("BENCH_VERSUS_DLT_FORMAT", "parquet")
    dlt_format = None if fmt == "default" else fmt
    if "dlt" in names:
        log(f"dlt peer: {peers.ensure(peers.DLT)}")
    cfg = SimulatorConfig(port=0, coins=COINS + 500, plan="unlimited", now=NOW, clean=True)
    results: list[dict[str, Sample]] = []
    per_endpoint: dict[str, dict[str, int]] = {}
    dlt_rows: object = None
    with running_simulator(cfg) as url, tempfile.TemporaryDirectory(prefix="bench-versus-") as tmp:
        root = url.rsplit("/api/v3", 1)[0]
        cmds = commands(url, dlt_format)

        def once(name: str, work: str) -> tuple[Sample, dict[str, dict[str, int]]]:
            nonlocal dlt_rows
            os.makedirs(work)
            argv, env = cmds[name](work)
            sample, out = run_measured(argv, env)
            if name == "dlt":
                dlt_rows = json.loads(out.strip().splitlines()[-1])["rows"]
            seen = calls_since_reset(root)
            calls = sum(sum(v.values()) for v in seen.values())
            return replace(sample, calls=calls), seen

        httpx.post(root + "/__reset")
        for i, row, seen_by in rounds_of(names, rounds, once, tmp):
            calling = [n for n in names if n in CALLING]
            for n in calling[1:]:
                if seen_by[n] != seen_by[calling[0]]:
                    raise SystemExit(
                        f"round {i}: the calls differ: {calling[0]} {seen_by[calling[0]]} vs {n} {seen_by[n]}"
                    )
            if calling:
                per_endpoint = seen_by[calling[0]]
            results.append(row)
            log(f"round {i}: " + ", ".join(f"{n} {row[n].wall_s:.2f}s/{row[n].calls} calls" for n in names))
    params = {
        "workload": "W0", "coins": COINS, "history_coins": HISTORY_COINS, "history_days": HISTORY_DAYS,
        "rounds": rounds, "calls_per_endpoint": per_endpoint, "dlt_loader_file_format": fmt,
        "dlt_requirements": list(peers.DLT.requirements), "dlt_rows": dlt_rows,
    }  # fmt: skip
    report("versus", names, results, params, TARGETS)
    # Airbyte's connector: arithmetic, not a run (one coin per connection, one call per coin-day).
    air = peers.airbyte_calls(HISTORY_COINS, HISTORY_DAYS, sum(per_endpoint.get("/coins/markets", {}).values()))
    emit("versus", "airbyte_history_calls", air["history_stream_calls"], "calls", command="airbyte",
         markets="no markets stream", **air)  # fmt: skip


if __name__ == "__main__":
    main()
