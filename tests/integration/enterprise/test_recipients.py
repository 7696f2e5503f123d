"""Reading pasted and uploaded e-mail lists (no app needed)."""

from __future__ import annotations

import pytest

from webapp.services.enterprise import InvalidRecipients, parse_recipients


def test_pasted_text_is_split_on_commas_semicolons_and_lines() -> None:
    result = parse_recipients("a@x.test, b@x.test;c@x.test\n\n d@x.test\r\n")
    assert result.valid == ("a@x.test", "b@x.test", "c@x.test", "d@x.test")


def test_addresses_are_normalised_and_duplicates_reported_once() -> None:
    result = parse_recipients("Ada@X.test ada@x.test <ada@x.test> b@x.test")
    assert result.valid == ("ada@x.test", "b@x.test")
    assert result.duplicates == ("ada@x.test",)


@pytest.mark.parametrize(
    "bad",
    [
        "plain",
        "a@b",
        "@x.test",
        "a@@x.test",
        "a@x.",
        "x" * 250 + "@x.test",
        "a..b@x.test",  # consecutive dots
        "a@-x.test",  # a domain label may not start with a hyphen
    ],
)
def test_invalid_addresses_are_reported(bad: str) -> None:
    result = parse_recipients(f"ok@x.test {bad}")
    assert result.valid == ("ok@x.test",)
    assert result.invalid == (bad[:254],)


def test_international_addresses_are_accepted_and_compared_in_lower_case() -> None:
    result = parse_recipients("Zoë@Exämple.test zoë@exämple.test")
    assert result.valid == ("zoë@exämple.test",)
    assert result.duplicates == ("zoë@exämple.test",)


def test_csv_single_column_without_header() -> None:
    assert parse_recipients("", b"a@x.test\nb@x.test\n").valid == ("a@x.test", "b@x.test")


def test_csv_email_column_is_found_by_name() -> None:
    csv = b'name,E-mail,team\n"Lovelace, Ada",ada@x.test,1\nGrace,grace@x.test,2\n'
    assert parse_recipients("", csv).valid == ("ada@x.test", "grace@x.test")


def test_csv_and_text_are_combined() -> None:
    result = parse_recipients("a@x.test", b"email\nA@x.test\nb@x.test\n")
    assert result.valid == ("a@x.test", "b@x.test")
    assert result.duplicates == ("a@x.test",)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"name,phone\nAda,1\n", "column named email"),
        (b"\xff\xfe\x00a", "not UTF-8"),
        (b"a@x.test\n" * 8000, "larger than"),
    ],
)
def test_unusable_csv_is_refused(data: bytes, message: str) -> None:
    with pytest.raises(InvalidRecipients, match=message):
        parse_recipients("", data)


def test_too_many_addresses_are_refused() -> None:
    with pytest.raises(InvalidRecipients, match="at most 1000"):
        parse_recipients(" ".join(f"p{i}@x.test" for i in range(1001)))


def test_nothing_submitted_is_empty() -> None:
    assert parse_recipients("  \n ").empty
