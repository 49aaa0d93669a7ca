"""The pure half of the CSV import: line numbers, delimiters, header names, row checks."""

from __future__ import annotations

import pytest

from ringfence.services.contact_import_csv import (
    CsvRecord,
    decode_csv,
    read_table,
    resolve_columns,
    split_full_name,
    split_tags,
    validate_row,
)
from ringfence.services.contact_import_report import ImportField, IssueCode
from ringfence.services.errors import InvalidField


def test_line_numbers_are_physical_lines_even_with_quoted_newlines() -> None:
    text = '\n\nphone,note\n2125550147,"two\nlines"\n\n2125550148,x\r\n2125550149,y\r'
    table = read_table(text)
    assert table.header_line == 3
    assert [(r.line, r.cells[0]) for r in table.records] == [
        (4, "2125550147"),
        (7, "2125550148"),
        (8, "2125550149"),
    ]


def test_old_mac_line_endings_and_a_bom() -> None:
    table = read_table("\ufeffphone\r2125550147\r\r2125550148\r")
    assert table.headers == ("phone",)
    assert [r.line for r in table.records] == [2, 4]


@pytest.mark.parametrize(
    ("header", "delimiter"),
    [
        ("phone,first name,last name", ","),
        ("phone;first name;last name", ";"),
        ("phone\tfirst name\tlast name", "\t"),
        ('"phone; mobile",first name', ","),
        ("phone", ","),
    ],
)
def test_the_delimiter_is_the_one_that_splits_the_header_most(header: str, delimiter: str) -> None:
    assert read_table(header + "\n").delimiter == delimiter


def test_headers_are_recognised_in_any_case_and_spelling() -> None:
    headers = ("PHONE_NUMBER", "firstName", "Family-Name", "E-mail Address", "Zip Code", "Notes")
    columns = resolve_columns(headers, None)
    assert columns.mapping == {
        "PHONE_NUMBER": ImportField.PHONE,
        "firstName": ImportField.FIRST_NAME,
        "Family-Name": ImportField.LAST_NAME,
        "E-mail Address": ImportField.EMAIL,
        "Zip Code": ImportField.POSTAL_CODE,
    }
    assert columns.ignored == ("Notes",)


def test_the_left_most_of_two_phone_columns_wins_unless_mapped() -> None:
    headers = ("Phone", "Mobile")
    assert resolve_columns(headers, None).mapping == {"Phone": ImportField.PHONE}
    explicit = resolve_columns(headers, {"mobile": "phone", "Phone": "ignore"})
    assert explicit.mapping == {"Mobile": ImportField.PHONE}
    assert explicit.ignored == ("Phone",)


def test_ambiguous_column_names_in_a_mapping_are_refused() -> None:
    with pytest.raises(InvalidField) as raised:
        resolve_columns(("Phone", "Phone"), {"Phone": "phone"})
    assert raised.value.field == "mapping.Phone"


def test_row_checks() -> None:
    draft = validate_row(
        CsvRecord(9, ("2125550147", "x" * 101, "2134", "A|B;A", "extra")),
        resolve_columns(("phone", "first name", "zip", "tags"), None),
    )
    assert draft.line == 9
    assert [(i.code, i.column) for i in draft.reasons] == [
        (IssueCode.TOO_LONG, "first name"),
        (IssueCode.INVALID_POSTAL_CODE, "zip"),
    ]
    assert "leading zero" in draft.reasons[1].message
    assert [i.code for i in draft.warnings] == [IssueCode.EXTRA_CELLS]
    assert draft.fields.tags == ("A", "B")


def test_names_split_with_the_first_word_or_the_comma() -> None:
    assert split_full_name("Ava de la Cruz") == ("Ava", "de la Cruz")
    assert split_full_name("Cruz,  Ava  Maria") == ("Ava Maria", "Cruz")
    assert split_full_name("Cher") == ("Cher", "")
    assert split_tags(" VIP, Botox ;;VIP| ") == ("VIP", "Botox")


def test_non_utf8_bytes_are_located() -> None:
    assert decode_csv(b"\xef\xbb\xbfphone\n") == "phone\n"
    with pytest.raises(InvalidField, match="line 3: the file is not UTF-8"):
        decode_csv(b"phone\n2125550147\nChlo\xe9\n")
