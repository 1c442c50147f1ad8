"""docs/using-the-lake.md runs as written, each block against the backend it names.

Three lakes are made by the CLI from one simulator, at the same time (they are independent): a local
folder, ``s3://my-bucket/lake`` on a moto server (Glue catalog) and a folder whose catalog is a
PostgreSQL database. Each backend's Python blocks then run in order in one namespace (a notebook),
with the environment an analyst would have for that lake; shell blocks run under bash with the
``geckolake`` of this environment on ``PATH``.

A block's backend is the HTML comment right before it: ``<!-- test: local -->`` (or ``glue``,
``postgres``), ``<!-- test: local, needs polars -->`` (run only where polars is installed), or
``<!-- test: not run (reason) -->``. Every Python and shell block must carry one, so a new block
cannot slip in untested by accident.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from tests.e2e.support import NOW, Cli, base_env
from tests.servers import FAKE_AWS, create_database, moto_server, postgres_bin, postgres_server

from geckolake.simulator import SimulatorConfig, running_simulator

pytestmark = pytest.mark.slow

PAGE = Path(__file__).resolve().parents[3] / "docs" / "using-the-lake.md"
BUCKET = "my-bucket"  # the bucket the page names
BACKENDS = ("local", "glue", "postgres")
# Small, so three lakes build in well under a minute on two shared cores; bitcoin has history.
RUN = ("run", "--coins", "20", "--history-coins", "2", "--history-days", "10")
MARKER = re.compile(r"<!-- test: (?P<mark>.*?) -->\n```(?P<lang>\w+)\n(?P<code>.*?)^```$", re.DOTALL | re.MULTILINE)
FENCE = re.compile(r"^```(?P<lang>\w+)\n", re.MULTILINE)
RUNNABLE = ("python", "sh")


@dataclass(frozen=True)
class Block:
    backend: str | None  # None: documentation only
    needs: tuple[str, ...]  # importable modules it needs beyond the project's dependencies
    lang: str
    code: str
    line: int  # of the block's first code line in the page

    def run_python(self, namespace: dict[str, object]) -> None:
        # Padding keeps the page's line numbers in tracebacks.
        exec(compile("\n" * (self.line - 1) + self.code, str(PAGE), "exec"), namespace)


def page_blocks() -> list[Block]:
    text = PAGE.read_text()
    blocks = []
    for m in MARKER.finditer(text):
        mark = m["mark"].strip()
        line = text.count("\n", 0, m.start("code")) + 1
        if mark.startswith("not run"):
            assert re.fullmatch(r"not run \(.+\)", mark), f"line {line}: say why a block is not run: {mark!r}"
            blocks.append(Block(None, (), m["lang"], m["code"], line))
            continue
        backend, *needs = [p.strip() for p in mark.split(",")]
        assert backend in BACKENDS, f"line {line}: unknown backend {backend!r}"
        assert all(n.startswith("needs ") for n in needs), f"line {line}: {mark!r}"
        blocks.append(Block(backend, tuple(n.removeprefix("needs ") for n in needs), m["lang"], m["code"], line))
    return blocks


def blocks_for(backend: str, *, optional: bool = False) -> list[Block]:
    return [b for b in page_blocks() if b.backend == backend and bool(b.needs) == optional]


@dataclass
class Backend:
    """A lake and the environment an analyst reading it would have."""

    folder: Path  # the working directory: the local lakes are ./lake in it
    env: dict[str, str]
    namespace: dict[str, object] = field(default_factory=dict)
    output: str = ""

    @contextlib.contextmanager
    def active(self) -> Iterator[None]:
        with pytest.MonkeyPatch.context() as mp:
            for k in [k for k in os.environ if k.startswith(("GECKOLAKE_", "COINGECKO_", "AWS_"))]:
                mp.delenv(k)
            for k, v in self.env.items():
                mp.setenv(k, v)
            mp.chdir(self.folder)
            yield

    def run(self, blocks: list[Block]) -> str:
        """Run ``blocks`` in order; returns what they printed."""
        out = io.StringIO()
        with self.active():
            for block in blocks:
                if block.lang == "python":
                    with contextlib.redirect_stdout(out):
                        block.run_python(self.namespace)
                else:
                    out.write(self._shell(block))
        self.output += out.getvalue()
        return out.getvalue()

    def _shell(self, block: Block) -> str:
        env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
        proc = subprocess.run(
            ["bash", "-e", "-c", block.code], env=env, capture_output=True, text=True, timeout=120
        )  # fmt: skip
        assert proc.returncode == 0, f"{PAGE.name}:{block.line}: {proc.stdout}\n{proc.stderr}"
        assert "Traceback" not in proc.stderr, proc.stderr
        return proc.stdout


def _reader_env(extra: dict[str, str]) -> dict[str, str]:
    return {"NO_COLOR": "1", "COLUMNS": "200", **extra}


@pytest.fixture(scope="module")
def backends(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Backend]]:
    import boto3

    root = tmp_path_factory.mktemp("using-the-lake")
    folders = {b: root / b for b in BACKENDS}
    for f in folders.values():
        f.mkdir()
    with contextlib.ExitStack() as stack:
        endpoint = stack.enter_context(moto_server())
        aws = {**FAKE_AWS, "AWS_ENDPOINT_URL": endpoint}
        boto3.client("s3", endpoint_url=endpoint, **_boto_credentials()).create_bucket(Bucket=BUCKET)
        readers = {
            "local": _reader_env({}),
            "glue": _reader_env(aws),
        }
        writers = {"local": {}, "glue": {**aws, "GECKOLAKE_LAKE": f"s3://{BUCKET}/lake"}}
        if postgres_bin() is not None:
            uri = create_database(stack.enter_context(postgres_server()), "lakes")
            pg = {"GECKOLAKE_CATALOG": "sql", "GECKOLAKE_CATALOG_URI": uri}
            readers["postgres"] = _reader_env(pg)
            writers["postgres"] = pg
        config = SimulatorConfig(port=0, coins=300, seed=11, plan="unlimited", now=NOW)
        with running_simulator(config) as url:
            runs = {}
            for backend, extra in writers.items():
                lake = folders[backend] / "lake"
                runs[backend] = Cli(lake, url, base_env(lake, url) | extra).popen(*RUN)
            for backend, proc in runs.items():
                stdout, stderr = proc.communicate(timeout=240)
                assert proc.returncode == 0, f"{backend}: geckolake run failed:\n{stdout}\n{stderr}"
        yield {b: Backend(folders[b], env) for b, env in readers.items()}


def _boto_credentials() -> dict[str, str]:
    return {
        "region_name": FAKE_AWS["AWS_REGION"],
        "aws_access_key_id": FAKE_AWS["AWS_ACCESS_KEY_ID"],
        "aws_secret_access_key": FAKE_AWS["AWS_SECRET_ACCESS_KEY"],
    }


def test_every_runnable_block_is_marked() -> None:
    text = PAGE.read_text()
    fenced = [m for m in FENCE.finditer(text) if m["lang"] in RUNNABLE]
    marked = [b for b in page_blocks() if b.lang in RUNNABLE]
    assert len(marked) == len(fenced), "a python/sh block on the page has no <!-- test: ... --> marker"
    counts = {b: len(blocks_for(b)) for b in BACKENDS}
    assert counts["local"] >= 5 and counts["glue"] >= 3 and counts["postgres"] >= 1, counts
    documented = [b for b in page_blocks() if b.backend is None]
    # REST and Spark (Python) and Athena (SQL) are documented, not run.
    assert len(documented) >= 3 and {"python", "sql"} <= {b.lang for b in documented}
    for block in documented:  # not run, but at least valid Python
        if block.lang == "python":
            compile(block.code, f"{PAGE}:{block.line}", "exec")


def test_local_lake_blocks_run(backends: dict[str, Backend]) -> None:
    local = backends["local"]
    out = local.run(blocks_for("local"))
    ns = local.namespace
    # The PyIceberg blocks loaded the lake's table through load_catalog as written, not through geckolake.
    table = ns["table"]
    assert table.name() == ("gold", "coin_daily")  # type: ignore[attr-defined]
    assert type(ns["catalog"]).__name__ == "SqlCatalog"
    assert "bitcoin" in out, out
    assert (local.folder / "coin_daily.parquet").stat().st_size > 0


def test_glue_lake_blocks_run(backends: dict[str, Backend]) -> None:
    glue = backends["glue"]
    out = glue.run(blocks_for("glue"))
    ns = glue.namespace
    assert type(ns["catalog"]).__name__ == "GlueCatalog"
    assert ns["table"].location() == f"s3://{BUCKET}/lake/warehouse/gold/coin_daily"  # type: ignore[attr-defined]
    assert "geckolake_gold" in out and "bitcoin" in out


def test_postgres_catalog_blocks_run(backends: dict[str, Backend]) -> None:
    if "postgres" not in backends:
        pytest.skip("PostgreSQL is not installed (apt-get install postgresql; .ci/run installs it)")
    pg = backends["postgres"]
    out = pg.run(blocks_for("postgres"))
    catalog = pg.namespace["catalog"]
    assert catalog.engine.dialect.name == "postgresql"  # type: ignore[attr-defined]
    assert "coin_id" in out and "close" in out


@pytest.mark.parametrize("block", blocks_for("local", optional=True), ids=lambda b: f"line{b.line}")
def test_blocks_needing_optional_packages_run(backends: dict[str, Backend], block: Block) -> None:
    missing = [m for m in block.needs if importlib.util.find_spec(m) is None]
    if missing:
        pytest.skip(f"{', '.join(missing)} not installed (not a geckolake dependency); the page says so")
    local = backends["local"]
    if "table" not in local.namespace:  # these blocks continue from the local PyIceberg blocks
        local.run(blocks_for("local"))
    local.run([block])
