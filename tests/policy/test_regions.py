"""The province's regions come from one dated table; the prefecture of a code or an identity number is read from it."""

from datetime import date

from portal.policy import regions

DAY = date(2026, 1, 1)


def test_the_province_code_is_the_tables_own_row_and_is_not_a_prefecture():
    assert regions.PROVINCE in regions.region_codes(DAY)
    assert regions.PROVINCE not in regions.prefecture_codes(DAY)


def test_the_province_has_nine_prefectures_with_names_in_both_languages():
    codes = regions.prefecture_codes(DAY)
    assert len(codes) == 9 and "220100" in codes and "222400" in codes
    assert regions.region_codes(DAY)["222400"] == {"zh": "延边朝鲜族自治州", "en": "Yanbian Korean Autonomous Prefecture"}


def test_a_county_code_belongs_to_its_prefecture():
    assert regions.prefecture_of("220102") == "220100"
    assert regions.prefecture_of("222401") == "222400"


def test_an_identity_number_belongs_to_the_prefecture_it_was_issued_in():
    assert regions.prefecture_of_id_number("22020319620410031X") == "220200"
    assert regions.prefecture_of_id_number("110101199003070011") == "110100"  # issued outside Jilin
