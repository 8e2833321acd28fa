"""GB 11643 resident identity numbers, GB 32100 credit codes, mobile numbers and masked names."""

from datetime import date

import pytest

from portal.identifiers import (
    InvalidIdentifier,
    make_credit_code,
    make_resident_id,
    mask_name,
    parse_credit_code,
    parse_resident_id,
    valid_mobile,
)

TODAY = date(2026, 11, 28)


@pytest.mark.parametrize("number, birth, sex", [
    ("11010519491231002X", date(1949, 12, 31), "female"),  # the standard's example, check character X
    ("220102198503150111", date(1985, 3, 15), "male"),
    ("22010219900101005X", date(1990, 1, 1), "male"),
])
def test_a_valid_identity_number_gives_its_birth_date_and_sex(number, birth, sex):
    resident = parse_resident_id(number, today=TODAY)
    assert (resident.number, resident.birth_date, resident.sex) == (number, birth, sex)
    assert resident.region == number[:6]


def test_a_lower_case_x_and_surrounding_space_are_accepted():
    assert parse_resident_id(" 11010519491231002x ", today=TODAY).number == "11010519491231002X"


@pytest.mark.parametrize("number", ["110105194912310021", "220102198503150114", "220102199001010050"])
def test_a_wrong_check_character_is_refused(number):
    with pytest.raises(InvalidIdentifier) as refused:
        parse_resident_id(number, today=TODAY)
    assert refused.value.code == "id_check"


@pytest.mark.parametrize("birth", ["19990230", "19991301", "20250229", "18991231"])
def test_a_birth_date_that_is_not_a_real_date_is_refused(birth):
    body = f"220102{birth}011"
    from portal.identifiers import id_check_character

    with pytest.raises(InvalidIdentifier) as refused:
        parse_resident_id(body + id_check_character(body), today=TODAY)
    assert refused.value.code == "id_birth_date"


def test_a_birth_date_after_today_is_refused():
    with pytest.raises(InvalidIdentifier) as refused:
        parse_resident_id(make_resident_id("220102", date(2026, 11, 29), 1), today=TODAY)
    assert refused.value.code == "id_birth_date"


@pytest.mark.parametrize("number", ["", "22010219850315011", "2201021985031501130", "220102850315011"])
def test_a_number_of_the_wrong_length_is_refused(number):
    with pytest.raises(InvalidIdentifier) as refused:
        parse_resident_id(number, today=TODAY)
    assert refused.value.code == "id_length"


@pytest.mark.parametrize("number", ["22010219850315011Y", "2201021985031501X1", "A20102198503150111"])
def test_letters_other_than_a_final_x_are_refused(number):
    with pytest.raises(InvalidIdentifier) as refused:
        parse_resident_id(number, today=TODAY)
    assert refused.value.code == "id_characters"


def test_numbers_built_for_demo_data_are_valid():
    number = make_resident_id("220203", date(1962, 4, 10), 31)
    assert parse_resident_id(number, today=TODAY).birth_date == date(1962, 4, 10)


def test_a_valid_credit_code_is_accepted_and_upper_cased():
    assert parse_credit_code("91350100M000100Y43") == "91350100M000100Y43"
    assert parse_credit_code(" 91350100m000100y43 ") == "91350100M000100Y43"


@pytest.mark.parametrize("code", ["91350100M000100Y44", "91350100M000100Y4A", "92350100M000100Y43"])
def test_a_credit_code_with_a_wrong_check_character_is_refused(code):
    with pytest.raises(InvalidIdentifier) as refused:
        parse_credit_code(code)
    assert refused.value.code == "uscc_check"


@pytest.mark.parametrize("letter", ["I", "O", "S", "V", "Z"])
def test_a_credit_code_with_a_forbidden_letter_is_refused(letter):
    with pytest.raises(InvalidIdentifier) as refused:
        parse_credit_code(f"91350100M000100{letter}43")
    assert refused.value.code == "uscc_characters"


@pytest.mark.parametrize("code", ["", "91350100M000100Y4", "91350100M000100Y430"])
def test_a_credit_code_of_the_wrong_length_is_refused(code):
    with pytest.raises(InvalidIdentifier) as refused:
        parse_credit_code(code)
    assert refused.value.code == "uscc_length"


def test_credit_codes_built_for_demo_data_are_valid():
    code = make_credit_code("220100", "MA84D2L7X")
    assert parse_credit_code(code) == code


@pytest.mark.parametrize("mobile, ok", [
    ("13912345678", True), (" 19912345678 ", True), ("12912345678", False), ("1391234567", False),
    ("139123456789", False), ("+8613912345678", False), ("", False),
])
def test_mobile_numbers_are_eleven_digits_starting_13_to_19(mobile, ok):
    assert valid_mobile(mobile) is ok


@pytest.mark.parametrize("name, masked", [
    ("张三丰", "张*丰"), ("张三", "张*"), ("张", "张"), ("", ""), ("欧阳小明", "欧**明"),
])
def test_mask_name_keeps_only_the_first_and_last_character(name, masked):
    assert mask_name(name) == masked
