"""`make aws-validate`, Terraform part: the module is formatted, initialises from the offline provider
mirror, validates, and its `terraform test` suite (mocked provider) passes. No account, no network."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.integration.aws.support import MODULE, Terraform, missing_terraform

pytestmark = pytest.mark.skipif(missing_terraform() is not None, reason=str(missing_terraform()))


@pytest.fixture(scope="module")
def tf(tmp_path_factory: pytest.TempPathFactory) -> Terraform:
    tf = Terraform.copy_of_module(tmp_path_factory.mktemp("tf"), backend=True)
    tf("init", "-backend=false", "-input=false")
    return tf


def test_the_module_is_formatted(tf: Terraform) -> None:
    proc = tf("fmt", "-check", "-recursive", "-diff", str(MODULE), check=False)
    assert proc.returncode == 0, f"run: terraform fmt -recursive deploy/aws\n{proc.stdout}"


def test_the_module_validates(tf: Terraform) -> None:
    assert "The configuration is valid" in tf("validate", "-no-color").stdout


def test_the_bootstrap_module_validates(tf: Terraform) -> None:
    bootstrap = Terraform(tf.workdir / "bootstrap", {**tf.env, "TF_DATA_DIR": str(tf.workdir.parent / "tfdata-boot")})
    bootstrap("init", "-backend=false", "-input=false")
    assert "The configuration is valid" in bootstrap("validate", "-no-color").stdout


def test_the_terraform_test_suite_passes(tf: Terraform) -> None:
    proc = tf("test", "-no-color", check=False)
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-3000:]
    assert "0 failed" in proc.stdout


def test_no_account_id_or_arn_is_hard_coded() -> None:
    import re

    for path in sorted(MODULE.rglob("*.tf")):
        text = path.read_text()
        assert not re.search(r"\b\d{12}\b", text), f"{path}: a 12-digit account id"
        assert not re.search(r"arn:aws:[a-z0-9-]+:[a-z0-9-]*:\d{12}", text), f"{path}: a hard-coded ARN"
    assert Path(MODULE / "tests" / "plan.tftest.hcl").is_file()
