"""``load_settings``: flags > environment > geckolake.toml > defaults, sections included, one file per call."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from geckolake.config import KNOWN_STABLECOINS, AnalyticsSettings, Settings, load_settings
from geckolake.errors import ConfigError

ROOT = Path(__file__).resolve().parents[3]


def _toml(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_an_analytics_table_in_the_file_reaches_settings_analytics(tmp_path: Path) -> None:
    config = _toml(
        tmp_path / "geckolake.toml",
        """
coins = 40

[analytics]
index_size = 3
risk_free_rate = 0.04
forecast_models = ["naive"]
stablecoins = ["tether", "dai"]
""",
    )
    settings = load_settings(config)
    assert settings.coins == 40
    assert settings.analytics == AnalyticsSettings(
        index_size=3, risk_free_rate=0.04, forecast_models=("naive",), stablecoins=frozenset({"tether", "dai"})
    )
    assert settings.analytics.movers_universe == 50  # unnamed fields keep their defaults


def test_without_an_analytics_table_the_defaults_apply() -> None:
    analytics = load_settings().analytics
    assert analytics == AnalyticsSettings()
    assert (analytics.index_size, analytics.forecast_horizon, analytics.train_days) == (10, 30, 365)
    assert analytics.forecast_models == ("naive", "auto_ets", "auto_theta")
    assert analytics.stablecoins == KNOWN_STABLECOINS


def test_the_file_in_the_working_directory_is_read_when_none_is_named(tmp_path: Path) -> None:
    _toml(tmp_path / "geckolake.toml", "[analytics]\nmovers_count = 4\n")
    assert load_settings().analytics.movers_count == 4


def test_geckolake_config_names_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GECKOLAKE_CONFIG", str(_toml(tmp_path / "other.toml", "coins = 7\n")))
    assert load_settings().coins == 7


def test_concurrent_loads_with_different_files_each_see_their_own(tmp_path: Path) -> None:
    files = {
        n: _toml(tmp_path / f"lake{n}.toml", f'lake = "lake{n}"\ncoins = {n}\n[analytics]\nindex_size = {n}\n')
        for n in (3, 5)
    }
    start = threading.Barrier(len(files))
    seen: dict[int, set[tuple[str, int, int]]] = {n: set() for n in files}
    errors: list[BaseException] = []

    def load_many(n: int) -> None:
        try:
            start.wait()
            for _ in range(100):
                s = load_settings(files[n])
                seen[n].add((Path(s.lake).name, s.coins, s.analytics.index_size))
        except BaseException as e:  # reported below: an exception in a thread would pass silently
            errors.append(e)

    threads = [threading.Thread(target=load_many, args=(n,)) for n in files]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert seen == {n: {(f"lake{n}", n, n)} for n in files}


def test_a_settings_object_built_directly_reads_no_file(tmp_path: Path) -> None:
    _toml(tmp_path / "geckolake.toml", "coins = 7\n")
    load_settings()  # a load with a file leaves nothing behind for the next construction
    assert Settings().coins == 250


@pytest.mark.parametrize(
    ("env", "flags", "expected_sigma"),
    [
        (None, None, 4.0),  # file > default
        ('{"anomaly_sigma": 5}', None, 5.0),  # environment > file
        ('{"anomaly_sigma": 5}', {"anomaly_sigma": 7}, 7.0),  # flags > environment
        (None, {"anomaly_sigma": 7}, 7.0),  # flags > file
    ],
)
def test_flags_beat_environment_beat_file_for_a_section_field(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    env: str | None,
    flags: dict[str, float] | None,
    expected_sigma: float,
) -> None:
    config = _toml(tmp_path / "geckolake.toml", "[quality]\nanomaly_sigma = 4\ngate = false\n")
    if env is not None:
        monkeypatch.setenv("GECKOLAKE_QUALITY", env)
    settings = load_settings(config, quality=flags)
    assert settings.quality.anomaly_sigma == expected_sigma
    assert settings.quality.gate is False  # the file's other field of the section still applies
    assert settings.quality.anomaly_window == 30  # and the defaults fill the rest


def test_flags_beat_environment_beat_file_for_a_top_level_field(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = _toml(tmp_path / "geckolake.toml", "coins = 11\nhistory_coins = 3\n")
    monkeypatch.setenv("GECKOLAKE_COINS", "22")
    assert (load_settings(config).coins, load_settings(config).history_coins) == (22, 3)
    assert load_settings(config, coins=33, history_coins=None).coins == 33  # a None flag is not given


def test_an_analytics_section_in_the_environment_is_a_json_object(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GECKOLAKE_ANALYTICS", '{"forecast_coins": 2, "stablecoins": ["tether"]}')
    analytics = load_settings().analytics
    assert (analytics.forecast_coins, analytics.stablecoins) == (2, frozenset({"tether"}))


def test_model_copy_keeps_the_sections(tmp_path: Path) -> None:
    settings = load_settings(_toml(tmp_path / "geckolake.toml", "[analytics]\nindex_size = 4\n"))
    copy = settings.model_copy(update={"coins": 1})
    assert type(copy) is Settings
    assert (copy.coins, copy.analytics.index_size) == (1, 4)


def test_a_named_file_that_does_not_exist_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"config file .*missing\.toml not found") as e:
        load_settings(tmp_path / "missing.toml")
    assert e.value.hint == "fix --config / GECKOLAKE_CONFIG"


@pytest.mark.parametrize(
    ("section", "field"),
    [
        ('forecast_models = ["prophet"]', "analytics.forecast_models.0"),
        ("index_size = 0", "analytics.index_size"),
        ("index_sise = 3", "analytics.index_sise"),  # a typo never passes silently
    ],
)
def test_an_invalid_analytics_value_names_the_field_and_the_file(tmp_path: Path, section: str, field: str) -> None:
    config = _toml(tmp_path / "geckolake.toml", f"[analytics]\n{section}\n")
    with pytest.raises(ConfigError, match=rf"^invalid settings \(file {config}\): {field}: ") as e:
        load_settings(config)
    assert e.value.hint == "values come from flags, GECKOLAKE_* / COINGECKO_* variables, then geckolake.toml"


def test_a_file_that_is_not_toml_is_a_config_error(tmp_path: Path) -> None:
    config = _toml(tmp_path / "geckolake.toml", "[analytics\nindex_size = 3\n")
    with pytest.raises(ConfigError, match=rf"^config file {config} is not valid TOML: "):
        load_settings(config)


def test_a_section_variable_that_is_not_json_is_a_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GECKOLAKE_ANALYTICS", "index_size=3")
    with pytest.raises(ConfigError, match=r'^invalid settings: .*"analytics"') as e:
        load_settings()
    assert e.value.hint == "values come from flags, GECKOLAKE_* / COINGECKO_* variables, then geckolake.toml"


def test_analytics_settings_are_frozen_so_a_default_instance_is_shared_safely() -> None:
    with pytest.raises(ValueError, match="frozen"):
        AnalyticsSettings().index_size = 3  # type: ignore[misc]


def test_every_analytics_field_is_in_the_configuration_doc() -> None:
    doc = (ROOT / "docs" / "configuration.md").read_text()
    for name in AnalyticsSettings.model_fields:
        assert f"| `analytics.{name}` |" in doc, f"analytics.{name} is missing from docs/configuration.md"
