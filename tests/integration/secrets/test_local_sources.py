"""The env and file providers, source parsing, and the boto3-missing hint."""

from __future__ import annotations

import builtins
import logging
import os
import sys
from pathlib import Path
from typing import Any

import pytest

from geckolake.errors import ConfigError, SecretError
from geckolake.secrets import resolve_api_key

KEY = "CG-localKey-1122334455"


@pytest.mark.parametrize(
    ("plan", "env", "expected"),
    [
        ("public", {"COINGECKO_DEMO_API_KEY": KEY, "COINGECKO_PRO_API_KEY": KEY}, None),
        ("demo", {"COINGECKO_DEMO_API_KEY": f" {KEY} "}, KEY),
        ("demo", {"COINGECKO_PRO_API_KEY": KEY}, None),
        ("pro", {"COINGECKO_PRO_API_KEY": KEY, "COINGECKO_DEMO_API_KEY": "other-demo-key"}, KEY),
        ("analyst", {"COINGECKO_PRO_API_KEY": KEY}, KEY),
        ("pro", {}, None),
    ],
)
def test_env(plan: str, env: dict[str, str], expected: str | None) -> None:
    assert resolve_api_key(None, plan=plan, env=env) == expected
    assert resolve_api_key("env", plan=plan, env=env) == expected


def test_env_warns_about_the_other_variable(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        assert resolve_api_key("env", plan="demo", env={"COINGECKO_PRO_API_KEY": KEY}) is None
    assert "COINGECKO_DEMO_API_KEY is not set" in caplog.text and KEY not in caplog.text


def test_unknown_plan_is_config_error() -> None:
    with pytest.raises(ConfigError):
        resolve_api_key("env", plan="gold", env={})


def test_file(tmp_path: Path) -> None:
    path = tmp_path / "key"
    path.write_text(f"\n  {KEY}\n")
    path.chmod(0o600)
    assert resolve_api_key(f"file:{path}", plan="demo") == KEY


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        ("missing", "does not exist"),
        ("empty", "is empty"),
        ("directory", "is a directory"),
        ("binary", "not UTF-8"),
    ],
)
def test_file_errors(tmp_path: Path, setup: str, message: str) -> None:
    path = tmp_path / "key"
    if setup == "empty":
        path.write_text("  \n")
    elif setup == "directory":
        path.mkdir()
    elif setup == "binary":
        path.write_bytes(b"\xff\xfe" + KEY.encode())
    with pytest.raises(SecretError, match=message) as info:
        resolve_api_key(f"file:{path}", plan="demo")
    assert str(path) in str(info.value) and KEY not in str(info.value)


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file")
def test_unreadable_file(tmp_path: Path) -> None:
    path = tmp_path / "key"
    path.write_text(KEY)
    path.chmod(0)
    with pytest.raises(SecretError, match="permission denied"):
        resolve_api_key(f"file:{path}", plan="demo")


@pytest.mark.parametrize("source", ["vault:x", "file:", "ssm:", "secretsmanager", "env:FOO"])
def test_bad_source(source: str) -> None:
    with pytest.raises(SecretError, match="unknown API key source") as info:
        resolve_api_key(source, plan="demo")
    assert "ssm:/parameter/name" in str(info.value)


def test_missing_boto3_gives_install_hint(monkeypatch: pytest.MonkeyPatch) -> None:
    real_import = builtins.__import__

    def no_boto3(name: str, *args: Any, **kwargs: Any) -> Any:
        if name == "boto3":
            raise ImportError("No module named 'boto3'")
        return real_import(name, *args, **kwargs)

    monkeypatch.delitem(sys.modules, "boto3", raising=False)
    monkeypatch.setattr(builtins, "__import__", no_boto3)
    with pytest.raises(SecretError, match=r"pip install geckolake\[aws\]"):
        resolve_api_key("ssm:/x", plan="pro")


def test_injected_factory_and_json_errors() -> None:
    class FakeSecrets:
        def __init__(self, value: str) -> None:
            self.value = value

        def get_secret_value(self, SecretId: str) -> dict[str, Any]:
            return {"SecretString": self.value}

    def factory_for(value: str) -> Any:
        return lambda service, endpoint, region: FakeSecrets(value)

    assert resolve_api_key("secretsmanager:s", plan="pro", aws_client_factory=factory_for(KEY)) == KEY
    with pytest.raises(SecretError, match="does not parse") as info:
        resolve_api_key("secretsmanager:s", plan="pro", aws_client_factory=factory_for("{" + KEY))
    assert KEY not in str(info.value) and info.value.__cause__ is None
    with pytest.raises(SecretError, match="is empty"):
        resolve_api_key("secretsmanager:s", plan="pro", aws_client_factory=factory_for('{"api_key": " "}'))
