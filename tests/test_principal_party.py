"""A principal says whom it acts for, (kind, id), in one place."""

from portal.auth.principal import Principal


def test_a_person_acts_for_their_own_record_and_an_employers_operator_for_the_employer():
    assert Principal("person", 7, "王", person_id=70).party == ("person", 70)
    assert Principal("employer", 8, "赵", employer_id=80).party == ("employer", 80)


def test_staff_and_an_account_linked_to_nothing_act_for_no_party():
    assert Principal("staff", 9, "刘", roles=frozenset({"handler"})).party is None
    assert Principal("person", 10, "李").party is None
