"""Spreadsheets in and out: reading XLSX/CSV uploads (any usual encoding, GBK included), fitting their columns to our
fields, the small cell helpers every import needs, and writing XLSX workbooks for exports.

An import reads the file with :func:`read_rows` (the first row is the header), maps columns with
:func:`resolve_columns` (our field → column index; a mapping given by the user overrides the default headers) and
walks :func:`data_rows` (row numbers count the header as row 1, as a spreadsheet shows them). A large file is read
as a stream instead: :func:`open_table` gives its header and then its data rows one by one (CSV decoded as it is
read, XLSX through openpyxl's read-only mode), so that a million rows are never held at once. Nothing here knows
about any app's models.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import io
import json
import re
import unicodedata
import zipfile
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import date, datetime
from typing import IO, Any

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from gongzhi.core.errors import ErrorDetail, Text, ValidationFailed
from gongzhi.core.messages import fmt, join

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MAX_FILE_BYTES = 20 * 1024 * 1024

_XLSX_MAGIC = b"PK\x03\x04"
_XLS_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_SHEET_TITLE_BAD = re.compile(r"[\[\]:*?/\\]")
_ILLEGAL_XML = re.compile(r"[\000-\010]|[\013-\014]|[\016-\037]")

_BLOCK = 1 << 20  # bytes read at a time

# What an XLSX upload may cost once unpacked (checked on the zip's directory and the sheet's declared dimension before
# anything is parsed, and again while the rows are read). An XLSX is a zip of XML files: a few hundred KB can unpack
# to gigabytes (a sheet of white space, a shared-strings table openpyxl holds in memory) or declare a sheet of 17
# billion cells (A1:XFD1048576). Python's zipfile never unpacks a member past the size the directory declares, so
# checking the declared sizes is enough. Bigger honest files go in as CSV, which is read as a stream.
XLSX_MAX_UNPACKED_BYTES = 512 * 1024 * 1024  # all the members of the workbook together
XLSX_MAX_SHARED_STRINGS_BYTES = 128 * 1024 * 1024  # the shared strings, held in memory while the sheet is read
XLSX_MAX_RATIO = 100  # unpacked / packed for one member (honest sheets: 5-30); members under 1 MB are not checked
XLSX_RATIO_FROM_BYTES = 1024 * 1024
XLSX_MAX_COLUMNS = 500  # a row wider than this is refused (our widest import has a few dozen columns)
XLSX_MAX_ROWS = 1_048_576  # Excel's own limit
XLSX_MAX_CELLS = 20_000_000  # rows x columns, declared or read

DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y年%m月%d日", "%Y%m%d", "%Y-%m", "%Y/%m", "%Y.%m", "%Y年%m月")


# --- limits and the mapping field ------------------------------------------------------------------------------------


def check_size(size: int, limit: int = MAX_FILE_BYTES) -> None:
    """Refuse a file over ``limit`` bytes before reading it."""
    if size > limit:
        raise ValidationFailed(
            gettext_lazy("The file is too large."),
            [
                ErrorDetail(
                    field="file",
                    message=fmt(
                        gettext_lazy("%(kb)s KB is over the %(mb)s MB limit"),
                        kb=size // 1024,
                        mb=limit // (1024 * 1024),
                    ),
                )
            ],
        )


def parse_mapping(text: str | None) -> dict[str, str] | None:
    """A column mapping sent as text (an API form field): a JSON object of our field names to the file's headers."""
    if text is None or not text.strip():
        return None
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise ValidationFailed(
            gettext_lazy("The column mapping is not valid JSON."), [ErrorDetail(field="mapping", message=str(exc))]
        ) from None
    if not isinstance(value, dict):
        raise ValidationFailed(
            gettext_lazy("The column mapping must be a JSON object."),
            [ErrorDetail(field="mapping", message=gettext_lazy('e.g. {"ticket": "工单号", "title": "事项"}'))],
        )
    return value


# --- reading ---------------------------------------------------------------------------------------------------------


def read_rows(file_name: str, data: bytes) -> list[list[Any]]:
    """Every row of the first (active) sheet of an XLSX file, or of a CSV file (UTF-8, UTF-16 with BOM, GBK/GB18030;
    comma, tab or semicolon separated). Old ``.xls`` files and broken workbooks raise ``ValidationFailed``.
    Holds the whole file in memory: for large files use :func:`open_table`."""
    with open_table(file_name, data, header=False) as table:
        return [list(row) for row in table.rows()]


Source = bytes | IO[bytes]


class Table:
    """A spreadsheet read row by row (see :func:`open_table`): ``header`` is the first row as text, ``data_rows()``
    yields the rows under it with their spreadsheet row numbers, ``fraction_read()`` says how far the reading got
    (for progress bars). Use it as a context manager: it closes the workbook or the text wrapper, never the file
    it was given."""

    def __init__(self, rows: Iterator[list[Any]], progress: Callable[[], float | None], close: Callable[[], None]):
        self._rows = rows
        self._progress = progress
        self._close = close
        self.header: list[str] = []
        self._header_read = False

    def __enter__(self) -> Table:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._close()

    def rows(self) -> Iterator[list[Any]]:
        """Every row not read yet (the header too, unless it was read already)."""
        return self._rows

    def read_header(self) -> list[str]:
        """The header row as text; ``ValidationFailed`` when the file is empty."""
        if not self._header_read:
            first = next(self._rows, None)
            self.header = header_of([first] if first is not None else [])
            self._header_read = True
        return self.header

    def data_rows(self) -> Iterator[tuple[int, list[Any]]]:
        """The rows under the header with their spreadsheet row numbers (header = row 1), blank rows left out."""
        self.read_header()
        for number, cells in enumerate(self._rows, start=2):
            if has_text(cells):
                yield number, cells

    def fraction_read(self) -> float | None:
        """How much of the file has been read, 0..1 (None when unknown)."""
        return self._progress()


def open_table(file_name: str, source: Source, *, header: bool = True) -> Table:
    """A spreadsheet opened for reading row by row: XLSX (openpyxl's read-only mode, the first sheet) or CSV (decoded
    as it is read; the encoding is checked over the whole file first, so a file is never half-read as the wrong
    encoding). ``source`` is the file's bytes or a binary file object that can seek. With ``header`` (the default)
    the first row is read at once (``ValidationFailed`` when the file is empty) and is ``table.header``."""
    stream: IO[bytes] = io.BytesIO(source) if isinstance(source, bytes | bytearray) else source
    stream.seek(0)
    magic = stream.read(8)
    stream.seek(0)
    name = file_name.lower()
    if magic[:4] == _XLSX_MAGIC:
        table = _open_xlsx(stream)
    elif name.endswith(".xls") or magic == _XLS_MAGIC:
        raise ValidationFailed(
            gettext_lazy("Old Excel files (.xls) are not read."),
            [ErrorDetail(field="file", message=gettext_lazy("save the sheet as .xlsx or .csv and import that"))],
        )
    elif name.endswith((".xlsx", ".xlsm")):
        raise ValidationFailed(
            gettext_lazy("The file is not a valid XLSX workbook."), [ErrorDetail(field="file", message=name)]
        )
    else:
        table = _open_csv(stream)
    if header:
        try:
            table.read_header()
        except BaseException:
            table.close()
            raise
    return table


def _too_big(reason: str) -> ValidationFailed:
    return ValidationFailed(
        _("The workbook is too large to import once unpacked. Save it as CSV, or split it into smaller files."),
        [ErrorDetail(field="file", message=reason)],
    )


def check_xlsx_archive(stream: IO[bytes]) -> None:
    """Refuse a workbook whose members would unpack beyond the limits (``XLSX_MAX_*``), reading only the zip's
    directory. Leaves the stream at its start."""
    mb = 1024 * 1024
    try:
        stream.seek(0)
        with zipfile.ZipFile(stream) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise ValidationFailed(
            gettext_lazy("The file is not a valid XLSX workbook."),
            [ErrorDetail(field="file", message=str(exc) or "unreadable")],
        ) from None
    finally:
        stream.seek(0)
    total = sum(m.file_size for m in members)
    if total > XLSX_MAX_UNPACKED_BYTES:
        raise _too_big(
            _("it unpacks to %(size)d MB, more than %(limit)d MB")
            % {"size": total // mb, "limit": XLSX_MAX_UNPACKED_BYTES // mb}
        )
    for member in members:
        name = member.filename.rsplit("/", 1)[-1].lower()
        if name == "sharedstrings.xml" and member.file_size > XLSX_MAX_SHARED_STRINGS_BYTES:
            raise _too_big(
                _("its shared text unpacks to %(size)d MB, more than %(limit)d MB")
                % {"size": member.file_size // mb, "limit": XLSX_MAX_SHARED_STRINGS_BYTES // mb}
            )
        if member.file_size >= XLSX_RATIO_FROM_BYTES and member.file_size > XLSX_MAX_RATIO * max(
            member.compress_size, 1
        ):
            raise _too_big(
                _("%(member)s unpacks %(ratio)d times its packed size (at most %(limit)d): not an ordinary sheet")
                % {
                    "member": member.filename[:80],
                    "ratio": member.file_size // max(member.compress_size, 1),
                    "limit": XLSX_MAX_RATIO,
                }
            )


def _check_dimension(sheet: Any) -> None:
    """Refuse a sheet whose declared dimension (``<dimension ref="A1:XFD1048576"/>``) is beyond the limits."""
    rows = (sheet.max_row or 0) - (sheet.min_row or 1) + 1
    columns = (sheet.max_column or 0) - (sheet.min_column or 1) + 1
    if sheet.max_column and sheet.max_column > XLSX_MAX_COLUMNS:
        raise _too_big(
            _("the sheet declares %(columns)d columns, more than %(limit)d")
            % {"columns": sheet.max_column, "limit": XLSX_MAX_COLUMNS}
        )
    if sheet.max_row and sheet.max_row > XLSX_MAX_ROWS:
        raise _too_big(
            _("the sheet declares %(rows)d rows, more than %(limit)d") % {"rows": sheet.max_row, "limit": XLSX_MAX_ROWS}
        )
    if sheet.max_row and sheet.max_column and rows * columns > XLSX_MAX_CELLS:
        raise _too_big(
            _("the sheet declares %(cells)d cells, more than %(limit)d")
            % {"cells": rows * columns, "limit": XLSX_MAX_CELLS}
        )


def _open_xlsx(stream: IO[bytes]) -> Table:
    from openpyxl import load_workbook

    check_xlsx_archive(stream)
    try:
        workbook = load_workbook(stream, read_only=True, data_only=True)
        sheet = workbook.active or workbook.worksheets[0]
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, IndexError) as exc:
        raise ValidationFailed(
            gettext_lazy("The file is not a valid XLSX workbook."),
            [ErrorDetail(field="file", message=str(exc) or "unreadable")],
        ) from None
    try:
        _check_dimension(sheet)
    except ValidationFailed:
        workbook.close()
        raise
    total = getattr(sheet, "max_row", None)  # as declared: only for the progress bar
    # Read the rows the sheet really has, not the declared dimension: a dimension smaller than the data would cut
    # the rows off silently, and a larger one would pad every row to its width.
    if hasattr(sheet, "reset_dimensions"):
        sheet.reset_dimensions()
    done = [0]

    def rows() -> Iterator[list[Any]]:
        cells = 0
        for row in sheet.iter_rows(values_only=True):
            done[0] += 1
            width = len(row)
            cells += width
            if done[0] > XLSX_MAX_ROWS:
                raise _too_big(_("the sheet has more than %(limit)d rows") % {"limit": XLSX_MAX_ROWS})
            if width > XLSX_MAX_COLUMNS:
                raise _too_big(
                    _("row %(row)d has %(columns)d columns, more than %(limit)d")
                    % {"row": done[0], "columns": width, "limit": XLSX_MAX_COLUMNS}
                )
            if cells > XLSX_MAX_CELLS:
                raise _too_big(_("the sheet has more than %(limit)d cells") % {"limit": XLSX_MAX_CELLS})
            yield list(row)

    def progress() -> float | None:
        return min(1.0, done[0] / total) if total else None

    return Table(rows(), progress, workbook.close)


def _csv_encoding(stream: IO[bytes]) -> str:
    """The encoding the whole file decodes in: UTF-16 (with BOM), else UTF-8 (with or without BOM), else GB18030
    (a superset of GBK and GB2312); else ``ValidationFailed``. Decodes the file once per candidate, a block at a
    time, keeping nothing."""
    stream.seek(0)
    head = stream.read(4)
    utf16 = head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))
    candidates = ("utf-16",) if utf16 else ("utf-8-sig", "gb18030")
    for encoding in candidates:
        decoder = codecs.getincrementaldecoder(encoding)()
        stream.seek(0)
        try:
            while block := stream.read(_BLOCK):
                decoder.decode(block)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            continue
        return encoding
    raise ValidationFailed(
        gettext_lazy("The file's text encoding is not recognised."),
        [ErrorDetail(field="file", message=gettext_lazy("save it as CSV in UTF-8 or GBK, or as XLSX"))],
    )


def _open_csv(stream: IO[bytes]) -> Table:
    encoding = _csv_encoding(stream)
    stream.seek(0, io.SEEK_END)
    size = stream.tell()
    stream.seek(0)
    first_line = codecs.getincrementaldecoder(encoding)(errors="ignore").decode(stream.read(_BLOCK)).split("\n", 1)[0]
    delimiter = max((",", "\t", ";"), key=first_line.count)
    stream.seek(0)
    wrapper = io.TextIOWrapper(stream, encoding=encoding, newline="")
    reader = csv.reader(wrapper, delimiter=delimiter)

    def rows() -> Iterator[list[Any]]:
        count = 0
        try:
            for row in reader:
                count += 1
                yield row
        except csv.Error as exc:
            raise ValidationFailed(
                gettext_lazy("The CSV file cannot be read."),
                [ErrorDetail(field="file", row=count + 1, message=str(exc))],
            ) from None

    def progress() -> float | None:
        try:
            return min(1.0, stream.tell() / size) if size else None
        except (OSError, ValueError):
            return None

    def close() -> None:
        with contextlib.suppress(ValueError):
            wrapper.detach()  # the caller's file stays open

    return Table(rows(), progress, close)


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
        gettext_lazy("The file's text encoding is not recognised."),
        [ErrorDetail(field="file", message=gettext_lazy("save it as CSV in UTF-8 or GBK, or as XLSX"))],
    )


def header_of(rows: list[list[Any]]) -> list[str]:
    """The header row as text; ``ValidationFailed`` when the file is empty."""
    if not rows or not any(text(v) for v in rows[0]):
        raise ValidationFailed(
            gettext_lazy("The file is empty."),
            [ErrorDetail(field="file", row=1, message=gettext_lazy("the first row must be the header"))],
        )
    return [text(v) for v in rows[0]]


def has_text(cells: Sequence[Any]) -> bool:
    """Does a row hold anything but blanks? (Blank rows are left out of every import.)"""
    for value in cells:
        if value is None:
            continue
        if value.__class__ is str:
            if value and not value.isspace():
                return True
        elif text(value):
            return True
    return False


def data_rows(rows: list[list[Any]], max_rows: int | None = None) -> list[tuple[int, list[Any]]]:
    """The rows under the header with their spreadsheet row numbers (header = row 1), blank rows left out.
    More than ``max_rows`` raises ``ValidationFailed``."""
    body = [(number, cells) for number, cells in enumerate(rows[1:], start=2) if has_text(cells)]
    if max_rows is not None and len(body) > max_rows:
        raise ValidationFailed(
            gettext_lazy("The file has too many rows."),
            [
                ErrorDetail(
                    field="file",
                    message=fmt(
                        gettext_lazy("%(n)s rows; import at most %(max)s at a time"),
                        n=len(body),
                        max=max_rows,
                    ),
                )
            ],
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
    labels: Mapping[str, Any] | None = None,
) -> dict[str, int]:
    """Our field → the column index in the file.

    ``default_headers`` lists, per field, the headers the field usually has, in order of preference (the field's own
    name is accepted too). A ``mapping`` entry (field → header) replaces the defaults for that field; mapping a field
    to an empty string leaves it unused. Raises ``ValidationFailed`` naming every problem at once: an unknown mapping
    key, a mapped header the file does not have, a required field without a column. The messages name a field by
    its label (``labels``: field → translatable label), never by our internal name."""
    fields = tuple(default_headers)
    labels = labels or {}
    positions: dict[str, int] = {}
    for position, name in enumerate(header):
        positions.setdefault(norm_header(name), position)
    mapping = mapping or {}
    details: list[ErrorDetail] = []
    for key, value in mapping.items():
        if key not in default_headers:
            details.append(
                ErrorDetail(
                    field=f"mapping.{key}",
                    message=fmt(gettext_lazy("unknown field; the fields are %(fields)s"), fields=", ".join(fields)),
                )
            )
        elif value is not None and not isinstance(value, str):
            details.append(
                ErrorDetail(field=f"mapping.{key}", message=gettext_lazy("the column header must be a string"))
            )
    columns: dict[str, int] = {}
    for name in fields:
        if name in mapping:
            wanted = mapping[name]
            if not isinstance(wanted, str) or not wanted.strip():
                continue  # mapped to nothing: the column is not used
            index = positions.get(norm_header(wanted))
            if index is None:
                details.append(
                    ErrorDetail(
                        field=f"mapping.{name}",
                        message=fmt(gettext_lazy("the file has no column “%(column)s”"), column=wanted),
                    )
                )
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
            details.append(
                ErrorDetail(
                    field=name,
                    message=fmt(
                        gettext_lazy("no column for %(field)s: expected “%(expected)s”, or map it"),
                        field=labels.get(name, name),
                        expected=expected,
                    ),
                )
            )
    if details:
        missing = [d.field for d in details if d.field in required]
        message = (
            fmt(
                gettext_lazy("The file lacks required columns: %(columns)s. Nothing was imported."),
                columns=join((labels.get(str(m), m) for m in missing), "、"),
            )
            if missing
            else gettext_lazy("The column mapping does not fit the file. Nothing was imported.")
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


def parse_date(value: Any) -> tuple[date | None, Text]:
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
    for pattern in DATE_FORMATS:
        try:
            return datetime.strptime(raw, pattern).date(), ""
        except ValueError:
            continue
    try:
        return datetime.fromisoformat(raw).date(), ""
    except ValueError:
        return None, fmt(gettext_lazy("“%(value)s” is not a date (e.g. 2026-03-01)"), value=text(value))


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
