"""The mediation agreement as a Word document (.docx), in the usual layout of the 人民调解协议书: title, number, the
parties with their roles, the facts and the dispute, the agreed terms (each with how and by when it is performed),
the manner and deadline of performance, the copies, the signatures of the parties and the mediator, the mediation
committee and the date.

The form is the Chinese legal document (人民调解文书格式), so its fixed wording is Chinese whatever the reader's
language. Contacts (phone, ID number) are masked unless the caller may reveal them and asks to (audited by the
caller: ``services.agreement_document``).
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date

from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Pt

from gongzhi.core.privacy import mask_id_number, mask_phone
from gongzhi.disputes.choices import PartyRole

TITLE = "人民调解协议书"
FONT = "宋体"
ROLE_WORDS: dict[str, str] = {
    PartyRole.APPLICANT: "申请人",
    PartyRole.RESPONDENT: "被申请人",
    PartyRole.OTHER: "其他当事人",
}
CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


@dataclass(frozen=True)
class PartyLine:
    role: str
    name: str
    phone: str = ""
    id_number: str = ""
    address: str = ""


@dataclass(frozen=True)
class Term:
    text: str
    how: str = ""
    by: str = ""


@dataclass(frozen=True)
class AgreementDoc:
    number: str
    parties: list[PartyLine]
    facts: str
    terms: list[Term]
    performance: str
    mediator: str
    committee: str
    signed_on: date | None
    dispute_number: str = ""


def chinese_date(day: date | None) -> str:
    """``2026年12月7日``; blank lines to fill in by hand before it is signed."""
    return f"{day.year}年{day.month}月{day.day}日" if day else "　　　　年　　月　　日"


def party_text(p: PartyLine, *, reveal: bool = False) -> str:
    parts = [f"{ROLE_WORDS.get(p.role, '当事人')}：{p.name}"]
    if p.id_number:
        parts.append(f"身份证号码：{p.id_number if reveal else mask_id_number(p.id_number)}")
    if p.phone:
        parts.append(f"联系电话：{p.phone if reveal else mask_phone(p.phone)}")
    if p.address:
        parts.append(f"住址：{p.address}")
    return "，".join(parts)


def term_text(i: int, t: Term) -> str:
    text = f"{i}. {t.text}"
    extra = []
    if t.how:
        extra.append(f"履行方式：{t.how}")
    if t.by:
        y, m, d = (int(x) for x in t.by.split("-"))
        extra.append(f"履行期限：{chinese_date(date(y, m, d))}前")
    return f"{text}（{'；'.join(extra)}）" if extra else text


def _font(run: object, size: float = 12, bold: bool = False) -> None:
    font = run.font  # type: ignore[attr-defined]  # a python-docx Run
    font.name = FONT
    font.size = Pt(size)
    font.bold = bold
    r_pr = run._element.get_or_add_rPr()  # type: ignore[attr-defined]  # East Asian text needs its own font
    r_pr.get_or_add_rFonts().set(qn("w:eastAsia"), FONT)


def _para(document: object, text: str, *, size: float = 12, bold: bool = False, align: object = None) -> None:
    paragraph = document.add_paragraph()  # type: ignore[attr-defined]  # a python-docx Document
    if align is not None:
        paragraph.alignment = align
    _font(paragraph.add_run(text), size, bold)


def render(doc: AgreementDoc, *, reveal: bool = False) -> bytes:
    """The .docx file's bytes."""
    document = Document()
    _para(document, TITLE, size=22, bold=True, align=WD_ALIGN_PARAGRAPH.CENTER)
    _para(document, f"编号：{doc.number}", align=WD_ALIGN_PARAGRAPH.RIGHT)
    _para(document, "当事人", bold=True)
    for p in doc.parties:
        _para(document, party_text(p, reveal=reveal))
    _para(document, "纠纷主要事实、争议事项", bold=True)
    _para(document, doc.facts)
    _para(document, "经调解，各方当事人自愿达成如下协议：", bold=True)
    for i, t in enumerate(doc.terms, start=1):
        _para(document, term_text(i, t))
    _para(document, "履行方式、时限", bold=True)
    _para(document, doc.performance or "按上述各项约定的方式和期限履行。")
    copies = len(doc.parties) + 1
    _para(
        document,
        f"本协议自各方当事人签名、人民调解员签名并加盖人民调解委员会印章之日起生效。本协议一式{copies}份，"
        "当事人、人民调解委员会各持一份。",
    )
    _para(document, "")
    for p in doc.parties:
        _para(document, f"{ROLE_WORDS.get(p.role, '当事人')}（签名）：{p.name}　　　　＿＿＿＿＿＿")
    _para(document, f"人民调解员（签名）：{doc.mediator}　　　　＿＿＿＿＿＿")
    _para(document, f"{doc.committee}（盖章）", align=WD_ALIGN_PARAGRAPH.RIGHT)
    _para(document, chinese_date(doc.signed_on), align=WD_ALIGN_PARAGRAPH.RIGHT)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def read_text(data: bytes) -> list[str]:
    """The paragraphs of a .docx (tests, and anyone checking a file)."""
    return [p.text for p in Document(io.BytesIO(data)).paragraphs]
