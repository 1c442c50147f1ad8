"""The AWS stand-in and Terraform for the deployment tests: a moto server with the calls a full
apply needs, the offline provider mirror, and a Terraform runner (docs/aws.md, "Proven offline").
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
MODULE = ROOT / "deploy" / "aws"
DEFAULT_MIRROR = Path(os.environ.get("GECKOLAKE_TF_MIRROR", "/opt/tf-plugins"))
REGION = "eu-west-1"
FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
    "AWS_EC2_METADATA_DISABLED": "true",
}


def missing_terraform(mirror: Path = DEFAULT_MIRROR) -> str | None:
    """Why the Terraform tests cannot run here, or None when they can."""
    if shutil.which("terraform") is None:
        return "terraform is not installed (needs Terraform >= 1.5 on PATH)"
    provider = mirror / "registry.terraform.io" / "hashicorp" / "aws"
    unpacked, packed = provider.glob("5.*/*/terraform-provider-aws*"), provider.glob("terraform-provider-aws_5.*.zip")
    if not any(unpacked) and not any(packed):
        return f"no offline mirror of hashicorp/aws 5.x at {mirror} (set GECKOLAKE_TF_MIRROR)"
    return None


def cli_config(path: Path, mirror: Path = DEFAULT_MIRROR) -> Path:
    """A Terraform CLI config that installs hashicorp/aws from the mirror only."""
    path.write_text(
        "provider_installation {\n"
        f'  filesystem_mirror {{\n    path    = "{mirror}"\n'
        '    include = ["registry.terraform.io/hashicorp/aws"]\n  }\n'
        '  direct {\n    exclude = ["registry.terraform.io/hashicorp/aws"]\n  }\n}\n'
    )
    return path


@dataclass
class Terraform:
    """Runs terraform on a copy of the module (so tests never leave state in the repository)."""

    workdir: Path
    env: dict[str, str]
    log: list[str] = field(default_factory=list)

    @classmethod
    def copy_of_module(cls, tmp: Path, extra_env: Mapping[str, str] = {}, *, backend: bool = False) -> Terraform:
        """A copy without local state; without ``backend.tf`` unless ``backend`` (state stays local)."""
        workdir = tmp / "aws"
        skip = [".terraform", "*.tfstate*", "*.tfplan", ".terraform.lock.hcl", "image"]
        shutil.copytree(MODULE, workdir, ignore=shutil.ignore_patterns(*skip, *([] if backend else ["backend.tf"])))
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "TF_"))}
        env.update(
            TF_CLI_CONFIG_FILE=str(cli_config(tmp / "terraformrc")),
            CHECKPOINT_DISABLE="1",
            TF_IN_AUTOMATION="1",
            TF_DATA_DIR=str(tmp / "tfdata"),
            **extra_env,
        )
        return cls(workdir, env)

    def __call__(self, *args: str, timeout: float = 300, check: bool = True) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run(
            ["terraform", *args], cwd=self.workdir, env=self.env, capture_output=True, text=True, timeout=timeout
        )
        self.log += [proc.stdout, proc.stderr]
        if check and proc.returncode != 0:
            raise AssertionError(
                f"terraform {' '.join(args)} failed ({proc.returncode}):\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}"
            )
        return proc


def _patch_moto() -> None:
    """Calls the provider makes that moto 5.2 lacks: two of Step Functions (aws-emulation.md) and
    Athena's DeleteNamedQuery (destroy)."""
    from moto.athena.responses import AthenaResponse
    from moto.core.responses import ActionResult
    from moto.stepfunctions.responses import StepFunctionResponse

    def delete_named_query(self: AthenaResponse) -> str:
        self.athena_backend.named_queries.pop(self._get_param("NamedQueryId"), None)
        return "{}"

    AthenaResponse.delete_named_query = delete_named_query  # type: ignore[attr-defined]

    def validate_state_machine_definition(self: StepFunctionResponse) -> ActionResult:
        return ActionResult({"result": "OK", "diagnostics": []})

    def list_state_machine_versions(self: StepFunctionResponse) -> ActionResult:
        return ActionResult({"stateMachineVersions": []})

    StepFunctionResponse.validate_state_machine_definition = validate_state_machine_definition  # type: ignore[attr-defined]
    StepFunctionResponse.list_state_machine_versions = list_state_machine_versions  # type: ignore[attr-defined]


@contextmanager
def moto_server(execute_state_machines: bool = True) -> Iterator[str]:
    """A moto server on 127.0.0.1 (free port) with the Step Functions interpreter on; yields its URL."""
    import logging

    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)

    _patch_moto()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    url = f"http://{host}:{port}"
    previous = os.environ.get("MOTO_PORT")
    os.environ["MOTO_PORT"] = str(port)  # the interpreter calls SNS/Glue back on this port

    def configure(execute: bool) -> None:
        body = json.dumps({"stepfunctions": {"execute_state_machine": execute}}).encode()
        req = urllib.request.Request(
            f"{url}/moto-api/config", data=body, headers={"Content-Type": "application/json"}, method="POST"
        )
        urllib.request.urlopen(req, timeout=10).read()

    def reset() -> None:
        # moto keeps its state per process, not per server: start and end empty, so modules sharing a
        # pytest worker never see each other's resources (tests/servers.py does the same).
        urllib.request.urlopen(urllib.request.Request(f"{url}/moto-api/reset", method="POST"), timeout=10).read()

    try:
        reset()
        if execute_state_machines:
            configure(True)
        yield url
    finally:
        if execute_state_machines:
            configure(False)  # moto's config is process-wide too: leave it as found
        reset()
        server.stop()
        if previous is None:
            os.environ.pop("MOTO_PORT", None)
        else:
            os.environ["MOTO_PORT"] = previous


def wait_for(predicate, timeout: float = 60, interval: float = 0.5):  # type: ignore[no-untyped-def]
    """Poll ``predicate`` until it returns something truthy."""
    end = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() > end:
            return value
        time.sleep(interval)
