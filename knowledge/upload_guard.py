"""Checks on uploaded files before they are parsed: no YAML aliases (billion-laughs), no zip bombs or
oversized shared-string tables in .xlsx workbooks.

Knowledge entries never need YAML anchors or aliases; refusing them outright removes the exponential
expansion attack. An .xlsx file is a zip: its members are checked by their declared sizes before
openpyxl inflates anything.
"""

from __future__ import annotations

import io
import zipfile

import yaml

MAX_XLSX_UNCOMPRESSED = 100 * 1024 * 1024  # all members together
MAX_SHARED_STRINGS = 20 * 1024 * 1024  # xl/sharedStrings.xml
MAX_RATIO = 200  # uncompressed / compressed size of any member
MAX_MEMBERS = 1000


class UnsafeUpload(ValueError):
    """The upload is refused before parsing; the message says why (for people)."""


def check_yaml(text: str) -> None:
    """Refuse YAML that uses aliases (``*name``): entries never need them, bombs do."""
    try:
        for event in yaml.parse(text, Loader=yaml.SafeLoader):
            if isinstance(event, yaml.AliasEvent):
                mark = event.start_mark
                where = f"第{mark.line + 1}行" if mark is not None else ""
                raise UnsafeUpload(f"YAML 里不允许使用别名（*{event.anchor}）{where}")
    except yaml.YAMLError:
        return  # not YAML at all: the parser reports it with its line


def check_xlsx(data: bytes) -> None:
    """Refuse a workbook whose inflated size, compression ratio or shared-string table is too big."""
    try:
        members = zipfile.ZipFile(io.BytesIO(data)).infolist()
    except zipfile.BadZipFile:
        return  # not a zip: openpyxl reports it
    if len(members) > MAX_MEMBERS:
        raise UnsafeUpload(f"Excel 文件的组成部分太多（{len(members)} 个）")
    total = sum(m.file_size for m in members)
    if total > MAX_XLSX_UNCOMPRESSED:
        raise UnsafeUpload(f"Excel 文件解压后太大（{total // 1024 // 1024} MB）")
    for m in members:
        if m.filename.lower() == "xl/sharedstrings.xml" and m.file_size > MAX_SHARED_STRINGS:
            raise UnsafeUpload(f"Excel 文件的文字表太大（{m.file_size // 1024 // 1024} MB）")
        if m.compress_size and m.file_size / m.compress_size > MAX_RATIO and m.file_size > 1024 * 1024:
            raise UnsafeUpload(f"Excel 文件的压缩比异常（{m.filename}），可能是压缩炸弹")
