"""Reading XLSX uploads safely: the declared dimension is not trusted, and workbooks that would unpack beyond the
limits (zip bombs of white space or shared strings, a sheet declaring 17 billion cells) are refused before parsing."""

from __future__ import annotations

import io
import re
import time
import zipfile

import pytest
from django.utils import translation
from openpyxl import Workbook

from gongzhi.core import tabular
from gongzhi.core.errors import ValidationFailed

SHEET = "xl/worksheets/sheet1.xml"


@pytest.fixture(autouse=True)
def english():  # type: ignore[no-untyped-def]
    with translation.override("en"):
        yield


def workbook(rows: list[list[object]]) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def rewrite(data: bytes, changes: dict[str, bytes | None]) -> bytes:
    """The workbook with some members replaced (bytes) or their text transformed: a crafted file, still small."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        names = [info.filename for info in src.infolist()]
        for name in [*names, *(n for n in changes if n not in names)]:
            body = changes[name] if name in changes else src.read(name)
            dst.writestr(name, body or b"")
    return out.getvalue()


def with_shared_strings(data: bytes, strings: list[str]) -> bytes:
    """The workbook with a shared-strings table (openpyxl writes inline strings), referenced as Excel does."""
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        rels = z.read("xl/_rels/workbook.xml.rels").decode()
        types = z.read("[Content_Types].xml").decode()
    rels = rels.replace(
        "</Relationships>",
        '<Relationship Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings"'
        ' Target="sharedStrings.xml" Id="rId9" /></Relationships>',
    )
    types = types.replace(
        "</Types>",
        '<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.'
        'spreadsheetml.sharedStrings+xml" /></Types>',
    )
    sst = (
        '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        + "".join(f"<si><t>{s}</t></si>" for s in strings)
        + "</sst>"
    )
    return rewrite(
        data,
        {
            "xl/_rels/workbook.xml.rels": rels.encode(),
            "[Content_Types].xml": types.encode(),
            "xl/sharedStrings.xml": sst.encode(),
        },
    )


def sheet_xml(data: bytes) -> str:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return z.read(SHEET).decode()


def read_all(data: bytes) -> list[list[object]]:
    return tabular.read_rows("crafted.xlsx", data)


ROWS = [["工单编号", "标题"], *[[f"T-{i}", f"标题 {i}"] for i in range(1, 6)]]


def test_a_declared_dimension_smaller_than_the_data_does_not_cut_rows_off() -> None:
    data = workbook(ROWS)
    xml = re.sub(r'<dimension ref="[^"]+"\s*/>', '<dimension ref="A1:B2"/>', sheet_xml(data))
    crafted = rewrite(data, {SHEET: xml.encode()})
    rows = read_all(crafted)
    assert [r[0] for r in rows] == ["工单编号", "T-1", "T-2", "T-3", "T-4", "T-5"]
    with tabular.open_table("crafted.xlsx", crafted) as table:
        assert [n for n, _ in table.data_rows()] == [2, 3, 4, 5, 6]


def test_a_sheet_declaring_a1_to_xfd1048576_is_refused_at_once() -> None:
    data = workbook(ROWS)
    xml = re.sub(r'<dimension ref="[^"]+"\s*/>', '<dimension ref="A1:XFD1048576"/>', sheet_xml(data))
    crafted = rewrite(data, {SHEET: xml.encode()})
    assert len(crafted) < 10_000
    started = time.monotonic()
    with pytest.raises(ValidationFailed) as caught:
        read_all(crafted)
    assert time.monotonic() - started < 2
    assert caught.value.details[0].field == "file"
    assert "16384" in caught.value.details[0].message


def test_a_shared_strings_bomb_is_refused_before_parsing() -> None:
    data = workbook(ROWS)
    read_all(with_shared_strings(data, ["a", "b"]))  # an honest table is read
    crafted = with_shared_strings(data, ["x" * (16 * 1024 * 1024)])
    assert len(crafted) < 200_000
    with pytest.raises(ValidationFailed) as caught:
        read_all(crafted)
    assert "sharedStrings.xml" in caught.value.details[0].message


def test_a_sheet_of_white_space_is_refused_before_parsing() -> None:
    data = workbook(ROWS)
    xml = sheet_xml(data).replace("<sheetData>", "<sheetData>" + " " * (16 * 1024 * 1024))
    crafted = rewrite(data, {SHEET: xml.encode()})
    assert len(crafted) < 200_000
    with pytest.raises(ValidationFailed) as caught:
        read_all(crafted)
    assert SHEET in caught.value.details[0].message


def test_the_unpacked_size_and_the_shared_strings_are_capped(monkeypatch: pytest.MonkeyPatch) -> None:
    data = workbook(ROWS)
    read_all(data)  # an honest workbook is read
    monkeypatch.setattr(tabular, "XLSX_MAX_UNPACKED_BYTES", 1000)
    with pytest.raises(ValidationFailed, match="too large"):
        read_all(data)
    monkeypatch.setattr(tabular, "XLSX_MAX_UNPACKED_BYTES", 10**9)
    monkeypatch.setattr(tabular, "XLSX_MAX_SHARED_STRINGS_BYTES", 100)
    with pytest.raises(ValidationFailed, match="too large"):
        read_all(with_shared_strings(data, ["x" * 200]))


def test_rows_and_cells_are_capped_while_reading(monkeypatch: pytest.MonkeyPatch) -> None:
    # A cell far to the right, with the dimension left out: the row would be 600 cells wide.
    data = workbook(ROWS)
    xml = re.sub(r'<dimension ref="[^"]+"\s*/>', "", sheet_xml(data))
    xml = xml.replace("</row></sheetData>", '<c r="WB6" t="inlineStr"><is><t>far</t></is></c></row></sheetData>')
    crafted = rewrite(data, {SHEET: xml.encode()})
    with pytest.raises(ValidationFailed) as caught:
        read_all(crafted)
    assert "row 6" in caught.value.details[0].message
    monkeypatch.setattr(tabular, "XLSX_MAX_CELLS", 8)
    with pytest.raises(ValidationFailed, match="too large"):
        read_all(data)


def test_the_refusal_is_translated() -> None:
    data = workbook(ROWS)
    xml = re.sub(r'<dimension ref="[^"]+"\s*/>', '<dimension ref="A1:XFD1048576"/>', sheet_xml(data))
    with translation.override("zh-hans"), pytest.raises(ValidationFailed) as caught:
        read_all(rewrite(data, {SHEET: xml.encode()}))
    assert "CSV" in caught.value.message and "工作簿" in caught.value.message
    assert "列" in caught.value.details[0].message
