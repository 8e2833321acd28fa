"""The secrets and addresses Jilin shares with other provinces come from the environment and are checked there."""

from __future__ import annotations

import pytest

from portal.settings import SettingsError, from_environment

PRODUCTION = {"PORTAL_ENV": "production", "PORTAL_SECRET_KEY": "k" * 32, "PORTAL_PAYMENT_SECRET": "p" * 32,
              "PORTAL_SMS_URL": "https://sms.example/send", "PORTAL_SMS_KEY": "key"}


def test_each_province_has_its_own_secret_and_production_has_none_it_was_not_given():
    settings = from_environment({**PRODUCTION, "PORTAL_PROVINCE_SECRETS": "110000=beijing-shared-secret-1,"
                                                                          "310000=shanghai-shared-secret"})
    assert settings.province_secret("110000") == "beijing-shared-secret-1"
    assert settings.province_secret("310000") == "shanghai-shared-secret"
    assert settings.province_secret("440000") == ""  # every message from Guangdong is refused


def test_outside_production_an_unconfigured_province_gets_a_derived_secret_of_its_own():
    settings = from_environment({"PORTAL_ENV": "development", "PORTAL_SECRET_KEY": "dev-key"})
    beijing, shanghai = settings.province_secret("110000"), settings.province_secret("310000")
    assert beijing and shanghai and beijing != shanghai


@pytest.mark.parametrize("value", ["110000=short", "11000=long-enough-secret-1", "beijing"])
def test_a_malformed_secret_list_is_refused(value):
    with pytest.raises(SettingsError, match="PORTAL_PROVINCE_SECRETS"):
        from_environment({**PRODUCTION, "PORTAL_PROVINCE_SECRETS": value})


@pytest.mark.parametrize("value", ["110000=http://pension.beijing.example/m", "110000=ftp://x", "11=https://x"])
def test_province_addresses_must_be_https_in_production(value):
    with pytest.raises(SettingsError, match="PORTAL_PROVINCE_URLS"):
        from_environment({**PRODUCTION, "PORTAL_PROVINCE_URLS": value})
    assert from_environment({**PRODUCTION, "PORTAL_PROVINCE_URLS": "110000=https://pension.beijing.example/m"}
                            ).province_urls == {"110000": "https://pension.beijing.example/m"}
