"""Spreadsheets in and out: reading XLSX/CSV uploads (any usual encoding, GBK included), fitting their columns to our
fields, the small cell helpers every import needs, and writing XLSX workbooks for exports.

An import reads the file with :func:`read_rows` (the first row is the header), maps columns with
:func:`resolve_columns` (our field → column index; a mapping given by the user overrides the default headers) and
walks :func:`data_rows` (row numbers count the header as row 1, as a spreadsheet shows them). Nothing here knows
about any app's models.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import re
import unicodedata
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from typing import Any

from django.utils import timezone

from gongzhi.core.errors import ErrorDetail, ValidationFailed

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MAX_FILE_BYTES = 20 * 1024 * 1024

_XLSX_MAGIC = b"PK\x03\x04"
_XLS_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_SHEET_TITLE_BAD = re.compile(r"[\[\]:*?/\\]")
_ILLEGAL_XML = re.compile(r"[\000-\010]|[\013-\014]|[\016-\037]")

DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y年%m月%d日", "%Y%m%d", "%Y-%m", "%Y/%m", "%Y.%m", "%Y年%m月")


# --- limits and the mapping field ------------------------------------------------------------------------------------


def check_size(size: int, limit: int = MAX_FILE_BYTES) -> None:
    """Refuse a file over ``limit`` bytes before reading it."""
    if size > limit:
        raise ValidationFailed(
            "The file is too large.",
            [ErrorDetail(field="file", message=f"{size // 1024} KB is over the {limit // (1024 * 1024)} MB limit")],
        )


def parse_mapping(text: str | None) -> dict[str, str] | None:
    """A column mapping sent as text (an API form field): a JSON object of our field names to the file's headers."""
    if text is None or not text.strip():
        return None
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise ValidationFailed(
            "The column mapping is not valid JSON.", [ErrorDetail(field="mapping", message=str(exc))]
        ) from None
    if not isinstance(value, dict):
        raise ValidationFailed(
            "The column mapping must be a JSON object.",
            [ErrorDetail(field="mapping", message='e.g. {"ticket": "工单号", "title": "事项"}')],
        )
    return value


# --- reading ---------------------------------------------------------------------------------------------------------


def read_rows(file_name: str, data: bytes) -> list[list[Any]]:
    """Every row of the first (active) sheet of an XLSX file, or of a CSV file (UTF-8, UTF-16 with BOM, GBK/GB18030;
    comma, tab or semicolon separated). Old ``.xls`` files and broken workbooks raise ``ValidationFailed``."""
    name = file_name.lower()
    if data[:4] == _XLSX_MAGIC:
        return _read_xlsx(data)
    if name.endswith(".xls") or data[:8] == _XLS_MAGIC:
        raise ValidationFailed(
            "Old Excel files (.xls) are not read.",
            [ErrorDetail(field="file", message="save the sheet as .xlsx or .csv and import that")],
        )
    if name.endswith((".xlsx", ".xlsm")):
        raise ValidationFailed("The file is not a valid XLSX workbook.", [ErrorDetail(field="file", message=name)])
    return _read_csv(data)


def _read_xlsx(data: bytes) -> list[list[Any]]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise ValidationFailed(
            "The file is not a valid XLSX workbook.", [ErrorDetail(field="file", message=str(exc) or "unreadable")]
        ) from None
    try:
        sheet = workbook.active or workbook.worksheets[0]
        return [list(row) for row in sheet.iter_rows(values_only=True)]
    finally:
        workbook.close()


def decode_text(data: bytes) -> str:
    """Text from bytes in the encodings Chinese spreadsheets are saved in: UTF-16 (with BOM), UTF-8 (with or without
    BOM), then GB18030 (a superset of GBK and GB2312)."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16")
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ValidationFailed(
        "The file's text encoding is not recognised.",
        [ErrorDetail(field="file", message="save it as CSV in UTF-8 or GBK, or as XLSX")],
    )


def _read_csv(data: bytes) -> list[list[Any]]:
    text_ = decode_text(data)
    first_line = text_.split("\n", 1)[0]
    delimiter = max((",", "\t", ";"), key=first_line.count)
    reader = csv.reader(io.StringIO(text_, newline=""), delimiter=delimiter)
    rows: list[list[Any]] = []
    try:
        for row in reader:
            rows.append(row)
    except csv.Error as exc:
        raise ValidationFailed(
            "The CSV file cannot be read.", [ErrorDetail(field="file", row=len(rows) + 1, message=str(exc))]
        ) from None
    return rows


def header_of(rows: list[list[Any]]) -> list[str]:
    """The header row as text; ``ValidationFailed`` when the file is empty."""
    if not rows or not any(text(v) for v in rows[0]):
        raise ValidationFailed(
            "The file is empty.", [ErrorDetail(field="file", row=1, message="the first row must be the header")]
        )
    return [text(v) for v in rows[0]]


def data_rows(rows: list[list[Any]], max_rows: int | None = None) -> list[tuple[int, list[Any]]]:
    """The rows under the header with their spreadsheet row numbers (header = row 1), blank rows left out.
    More than ``max_rows`` raises ``ValidationFailed``."""
    body = [(number, cells) for number, cells in enumerate(rows[1:], start=2) if any(text(v) for v in cells)]
    if max_rows is not None and len(body) > max_rows:
        raise ValidationFailed(
            "The file has too many rows.",
            [ErrorDetail(field="file", message=f"{len(body)} rows; import at most {max_rows} at a time")],
        )
    return body


# --- columns ---------------------------------------------------------------------------------------------------------


def norm_header(value: str) -> str:
    """A header as compared: no BOM, no white space, no trailing required-marker ``*``, case-folded."""
    return re.sub(r"\s+", "", value.replace("\ufeff", "")).rstrip("*＊").casefold()


def resolve_columns(
    header: Sequence[str],
    mapping: Mapping[str, Any] | None,
    default_headers: Mapping[str, Sequence[str]],
    required: Sequence[str] = (),
) -> dict[str, int]:
    """Our field → the column index in the file.

    ``default_headers`` lists, per field, the headers the field usually has, in order of preference (the field's own
    name is accepted too). A ``mapping`` entry (field → header) replaces the defaults for that field; mapping a field
    to an empty string leaves it unused. Raises ``ValidationFailed`` naming every problem at once: an unknown mapping
    key, a mapped header the file does not have, a required field without a column."""
    fields = tuple(default_headers)
    positions: dict[str, int] = {}
    for position, name in enumerate(header):
        positions.setdefault(norm_header(name), position)
    mapping = mapping or {}
    details: list[ErrorDetail] = []
    for key, value in mapping.items():
        if key not in default_headers:
            details.append(
                ErrorDetail(field=f"mapping.{key}", message=f"unknown field; the fields are {', '.join(fields)}")
            )
        elif value is not None and not isinstance(value, str):
            details.append(ErrorDetail(field=f"mapping.{key}", message="the column header must be a string"))
    columns: dict[str, int] = {}
    for name in fields:
        if name in mapping:
            wanted = mapping[name]
            if not isinstance(wanted, str) or not wanted.strip():
                continue  # mapped to nothing: the column is not used
            index = positions.get(norm_header(wanted))
            if index is None:
                details.append(ErrorDetail(field=f"mapping.{name}", message=f"the file has no column “{wanted}”"))
            else:
                columns[name] = index
            continue
        for candidate in (*default_headers[name], name):
            index = positions.get(norm_header(candidate))
            if index is not None:
                columns[name] = index
                break
    for name in required:
        if name not in columns and not any(d.field == f"mapping.{name}" for d in details):
            expected = " / ".join(default_headers[name]) or name
            details.append(ErrorDetail(field=name, message=f"no column for {name}: expected “{expected}”, or map it"))
    if details:
        missing = [d.field for d in details if d.field in required]
        message = (
            f"The file lacks required columns: {', '.join(str(m) for m in missing)}. Nothing was imported."
            if missing
            else "The column mapping does not fit the file. Nothing was imported."
        )
        raise ValidationFailed(message, details)
    return columns


# --- cells -----------------------------------------------------------------------------------------------------------


def cell(cells: Sequence[Any], index: int | None) -> Any:
    """The value at ``index`` (``None`` past the row's end or for an unmapped column)."""
    if index is None or index >= len(cells):
        return None
    return cells[index]


def text(value: Any) -> str:
    """A cell as trimmed text; whole floats (XLSX numbers) lose their ``.0``."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def fold(value: Any) -> str:
    """Text for matching words and names: NFKC (full-width → half-width), no white space, case-folded."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text(value))).casefold()


def split_words(value: Any) -> list[str]:
    """A list cell: words separated by commas (, ，), enumeration commas (、), semicolons or slashes."""
    return [w.strip() for w in re.split(r"[,，、;；/／|｜\n]+", text(value)) if w.strip()]


def parse_date(value: Any) -> tuple[date | None, str]:
    """A date from a cell: a date/datetime (XLSX), an Excel serial number, or text such as 2026-03-01, 2026/3/1,
    2026.3.1, 2026年3月1日, 20260301. Returns (date, problem); an empty cell is (None, "")."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None, ""
    if isinstance(value, datetime):
        return value.date(), ""
    if isinstance(value, date):
        return value, ""
    if isinstance(value, int | float) and not isinstance(value, bool):
        if 1 <= value < 80000:  # an Excel serial date
            from openpyxl.utils.datetime import from_excel

            parsed = from_excel(value)
            return (parsed.date() if isinstance(parsed, datetime) else None), ""
        value = text(value)
    raw = re.sub(r"\s+", "", unicodedata.normalize("NFKC", str(value)))
    for fmt in DATE_FORMATS:
        try:
            return datetime.strptime(raw, fmt).date(), ""
        except ValueError:
            continue
    try:
        return datetime.fromisoformat(raw).date(), ""
    except ValueError:
        return None, f"“{text(value)}” is not a date (e.g. 2026-03-01)"


# --- writing ---------------------------------------------------------------------------------------------------------


Sheet = tuple[str, Sequence[str], Iterable[Sequence[Any]]]


def _display_width(value: Any) -> int:
    if value is None:
        return 0
    if isinstance(value, datetime):
        return 19
    if isinstance(value, date):
        return 10
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in str(value))


def _sheet_title(title: str, taken: set[str]) -> str:
    base = _SHEET_TITLE_BAD.sub(" ", title).strip()[:31] or "Sheet"
    candidate, n = base, 2
    while candidate.casefold() in taken:
        suffix = f" ({n})"
        candidate, n = base[: 31 - len(suffix)] + suffix, n + 1
    taken.add(candidate.casefold())
    return candidate


def write_xlsx(sheets: Sequence[Sheet], *, width_sample: int = 2000) -> bytes:
    """An XLSX workbook with one sheet per ``(title, headers, rows)``: a bold, frozen header row and column widths
    fitted to the header and the first ``width_sample`` rows (CJK characters count double, 8 to 60 wide).

    Text is always stored as text: a value starting with ``=`` is never written as a formula, control characters
    that XML cannot hold are dropped, and long digit strings (ID numbers, phones) keep every digit."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    workbook = Workbook(write_only=True)
    bold = Font(bold=True)
    taken: set[str] = set()
    for title, headers, rows in sheets or [("Sheet", [], [])]:
        sheet = workbook.create_sheet(_sheet_title(title, taken))
        materialised = [list(row) for row in rows]
        width = max([len(headers), *(len(row) for row in materialised[:width_sample])], default=0)
        for index in range(width):
            sample = [row[index] for row in materialised[:width_sample] if index < len(row)]
            header_width = _display_width(headers[index]) if index < len(headers) else 0
            fitted = max([header_width, *(_display_width(v) for v in sample)], default=0) + 2
            sheet.column_dimensions[get_column_letter(index + 1)].width = min(max(fitted, 8), 60)
        if headers:
            sheet.freeze_panes = "A2"
            header_cells = []
            for name in headers:
                item = WriteOnlyCell(sheet, value=_clean(name))
                item.font = bold
                item.data_type = "s"
                header_cells.append(item)
            sheet.append(header_cells)
        for row in materialised:
            sheet.append([_cell_for(sheet, value, WriteOnlyCell) for value in row])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _clean(value: Any) -> str:
    return _ILLEGAL_XML.sub("", str(value))


def _cell_for(sheet: Any, value: Any, cell_class: Any) -> Any:
    if isinstance(value, datetime) and value.tzinfo is not None:  # Excel has no time zones: local wall time
        value = timezone.localtime(value).replace(tzinfo=None)
    if value is None or isinstance(value, bool | int | float | date | datetime):
        return value
    item = cell_class(sheet, value=_clean(value))
    item.data_type = "s"  # text stays text: no formulas from user data
    return item
