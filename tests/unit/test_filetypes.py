"""A document's type is read from its content, never its name: each type allowed is recognised from a small
real sample made here, and a file whose content is not what its name says is refused, naming the file and
what it really is."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib

import pytest

from engine import filetypes
from engine.filetypes import RefusedType, check

MAIN = "application/vnd.openxmlformats-officedocument.{}.main+xml"


def ooxml(main_part: str, content_type: str) -> bytes:
    """A minimal Office Open XML package: its content types, naming the main part's kind, and that part."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(
            "[Content_Types].xml",
            '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/'
            '2006/content-types"><Default Extension="xml" ContentType="application/xml"/>'
            f'<Override PartName="/{main_part}" ContentType="{content_type}"/></Types>',
        )
        z.writestr("_rels/.rels", "<Relationships/>")
        z.writestr(main_part, "<document/>")
    return buffer.getvalue()


def odf(mimetype: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr("mimetype", mimetype, compress_type=zipfile.ZIP_STORED)
        z.writestr("content.xml", "<office:document-content/>", compress_type=zipfile.ZIP_DEFLATED)
    return buffer.getvalue()


def png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\0\0"))
        + chunk(b"IEND", b"")
    )


PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
DOCX = ooxml("word/document.xml", MAIN.format("wordprocessingml.document"))
XLSX = ooxml("xl/workbook.xml", MAIN.format("spreadsheetml.sheet"))
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xd9"


@pytest.mark.parametrize(
    ("name", "content", "mime"),
    [
        ("report.pdf", PDF, "application/pdf"),
        ("Report.PDF", PDF, "application/pdf"),
        (
            "draft report.docx",
            DOCX,
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        ),
        ("chronology.xlsx", XLSX, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        (
            "minutes.odt",
            odf("application/vnd.oasis.opendocument.text"),
            "application/vnd.oasis.opendocument.text",
        ),
        (
            "chronology.ods",
            odf("application/vnd.oasis.opendocument.spreadsheet"),
            "application/vnd.oasis.opendocument.spreadsheet",
        ),
        (
            "chronology.csv",
            "date,agency,event\n2026-12-01,Police,Visit to the home – “urgent”\n".encode(),
            "text/csv; charset=utf-8",
        ),
        (
            "notes.txt",
            "\ufeffMinutes of the meeting\r\n\tAgreed: yes\n".encode(),
            "text/plain; charset=utf-8",
        ),
        ("plan.png", png(), "image/png"),
        ("photo.jpeg", JPEG, "image/jpeg"),
        ("photo.jpg", JPEG, "image/jpeg"),
    ],
)
def test_each_type_allowed_is_recognised_from_its_content(name, content, mime):
    assert check(name, content).mime == mime


@pytest.mark.parametrize(
    ("name", "content", "really"),
    [
        ("report.pdf", b"<!DOCTYPE html><html><script>alert(1)</script></html>", "an HTML or XML document"),
        ("report.pdf", b"\n  <html><body onload=alert(1)>", "an HTML or XML document"),
        (
            "plan.png",
            b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
            "HTML or XML",
        ),
        ("report.pdf", b"MZ\x90\x00\x03\x00\x00\x00\x04\x00" + bytes(200), "a Windows program"),
        ("report.docx", b"\x7fELF\x02\x01\x01" + bytes(100), "a program"),
        ("notes.txt", b"#!/bin/sh\nrm -rf /\n", "a script"),
        (
            "report.docx",
            ooxml("word/document.xml", "application/vnd.ms-word.document.macroEnabled.main+xml"),
            "macros",
        ),
        ("report.doc", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(100), "an older Word or Excel file"),
        ("archive.xlsx", b"PK\x03\x04" + bytes(40), "a damaged or unreadable archive"),
        ("data.csv", bytes(range(256)), "a binary file"),
    ],
)
def test_a_disguised_or_unknown_file_is_refused_naming_it_and_what_it_is(name, content, really):
    with pytest.raises(RefusedType) as refused:
        check(name, content)
    assert f"‘{name}’" in str(refused.value) and really in str(refused.value)


def test_a_zip_that_is_no_office_file_is_refused():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr("evil.exe", b"MZ")
    with pytest.raises(RefusedType) as refused:
        check("chronology.xlsx", buffer.getvalue())
    assert "‘chronology.xlsx’ is a zip archive" in str(refused.value)


@pytest.mark.parametrize(
    ("name", "content", "says"),
    [
        ("report.docx", PDF, "‘report.docx’ is a PDF document, but it is named as a .docx file"),
        ("chronology.csv", XLSX, "is an Excel spreadsheet, but it is named as a .csv file"),
        ("report.pdf", b"plain words\n", "is a text file, but it is named as a .pdf file"),
        ("report", PDF, "is a PDF document, but it is named without an extension"),
        ("photo.png", JPEG, "rename it to end .jpg or .jpeg"),
    ],
)
def test_a_real_type_under_another_name_is_refused(name, content, says):
    with pytest.raises(RefusedType) as refused:
        check(name, content)
    assert says in str(refused.value)


def test_an_empty_file_is_refused():
    with pytest.raises(RefusedType) as refused:
        check("empty.pdf", b"")
    assert str(refused.value) == "‘empty.pdf’ is empty"


def test_the_upload_form_offers_the_extensions_allowed():
    assert filetypes.ACCEPT.split(",") == sorted(filetypes.ACCEPT.split(","))
    assert {".pdf", ".docx", ".xlsx", ".odt", ".ods", ".csv", ".txt", ".png", ".jpg"} <= set(
        filetypes.ACCEPT.split(",")
    )
