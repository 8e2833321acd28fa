"""Settings come from PORTAL_* variables; production refuses to start without its secrets."""

import pytest

from portal import settings as settings_module
from portal.settings import SettingsError, from_environment

PRODUCTION = {"PORTAL_ENV": "production", "PORTAL_SECRET_KEY": "s" * 48, "PORTAL_PAYMENT_SECRET": "p" * 48,
              "PORTAL_DATABASE_URL": "postgresql+psycopg://portal@db/portal",
              "PORTAL_SMS_URL": "https://sms.example/send", "PORTAL_SMS_KEY": "k" * 32}


@pytest.fixture
def var_dir(tmp_path, monkeypatch):
    """The development secrets go to a directory of the test's own."""
    monkeypatch.setattr(settings_module, "VAR_DIR", tmp_path / "var")
    return tmp_path / "var"


def test_production_without_a_secret_key_refuses_to_start(var_dir):
    environment = {key: value for key, value in PRODUCTION.items() if key != "PORTAL_SECRET_KEY"}
    with pytest.raises(SettingsError, match="PORTAL_SECRET_KEY"):
        from_environment(environment)
    assert not (var_dir / "secret_key").exists()


@pytest.mark.parametrize("missing", ["PORTAL_SMS_URL", "PORTAL_SMS_KEY"])
def test_production_without_its_sms_gateway_refuses_to_start(var_dir, missing):
    environment = {key: value for key, value in PRODUCTION.items() if key != missing}
    with pytest.raises(SettingsError, match="PORTAL_SMS_URL and PORTAL_SMS_KEY"):
        from_environment(environment)


def test_production_without_a_payment_secret_refuses_to_start(var_dir):
    environment = {key: value for key, value in PRODUCTION.items() if key != "PORTAL_PAYMENT_SECRET"}
    with pytest.raises(SettingsError, match="PORTAL_PAYMENT_SECRET"):
        from_environment(environment)


def test_production_with_its_secrets_is_secure(var_dir):
    settings = from_environment(PRODUCTION)
    assert (settings.env, settings.production, settings.secure_cookies) == ("production", True, True)
    assert settings.secret_key == "s" * 48
    assert settings.database_url == PRODUCTION["PORTAL_DATABASE_URL"]


def test_an_unknown_environment_is_refused(var_dir):
    with pytest.raises(SettingsError, match="PORTAL_ENV"):
        from_environment({"PORTAL_ENV": "staging"})


def test_development_generates_a_secret_once_and_keeps_it(var_dir):
    first = from_environment({})
    second = from_environment({"PORTAL_ENV": "development"})

    stored = var_dir / "secret_key"
    assert first.secret_key == second.secret_key == stored.read_text().strip()
    assert len(first.secret_key) >= 40
    assert stored.stat().st_mode & 0o077 == 0  # readable by the owner only
    assert first.payment_secret and first.payment_secret != first.secret_key


def test_a_secret_key_in_the_environment_wins_and_nothing_is_written(var_dir):
    settings = from_environment({"PORTAL_SECRET_KEY": "from-the-environment"})
    assert settings.secret_key == "from-the-environment"
    assert not (var_dir / "secret_key").exists()


def test_development_defaults(var_dir):
    settings = from_environment({})
    assert settings.env == "development" and not settings.production and not settings.secure_cookies
    assert settings.database_url == f"sqlite:///{var_dir / 'portal.db'}"
    assert (settings.session_idle_minutes, settings.lockout_attempts, settings.lockout_minutes) == (30, 5, 15)
    assert settings.base_url == "http://127.0.0.1:8000"


def test_host_and_port_make_the_base_url(var_dir):
    settings = from_environment({"PORTAL_HOST": "0.0.0.0", "PORTAL_PORT": "9000"})
    assert settings.base_url == "http://0.0.0.0:9000"


def test_a_worker_runs_eight_requests_at_once_unless_told_otherwise_within_bounds(var_dir):
    assert from_environment(PRODUCTION).request_threads == 8
    assert from_environment(PRODUCTION | {"PORTAL_REQUEST_THREADS": "16"}).request_threads == 16
    for wrong in ("0", "201", "eight", "-1"):
        with pytest.raises(SettingsError, match="PORTAL_REQUEST_THREADS"):
            from_environment(PRODUCTION | {"PORTAL_REQUEST_THREADS": wrong})


def test_the_audit_sealing_interval_defaults_to_half_a_second_and_may_be_set_or_refused(var_dir):
    assert from_environment(PRODUCTION).audit_seal_ms == 500
    assert from_environment(PRODUCTION | {"PORTAL_AUDIT_SEAL_MS": "0"}).audit_seal_ms == 0
    with pytest.raises(SettingsError, match="PORTAL_AUDIT_SEAL_MS"):
        from_environment(PRODUCTION | {"PORTAL_AUDIT_SEAL_MS": "-5"})
