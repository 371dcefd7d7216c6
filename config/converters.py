"""Path converters: an id or a code in a URL either fits its column or the URL does not match (a 404)."""

from __future__ import annotations

from django.urls import register_converter

from config.inputs import INT64_MAX


class IdConverter:
    """A positive 64-bit integer id (Django's `int` also matches 2**64, which SQLite cannot compare)."""

    regex = "[0-9]{1,19}"

    def to_python(self, value: str) -> int:
        number = int(value)
        if number > INT64_MAX:
            raise ValueError(value)
        return number

    def to_url(self, value) -> str:
        return str(value)


class ProvinceCodeConverter:
    regex = "[0-9]{2}"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value) -> str:
        return str(value)


class CommuneCodeConverter(ProvinceCodeConverter):
    # 5 digits; an old-map island district without communes (huyện đảo) keeps its 3-digit district code.
    regex = "[0-9]{3}(?:[0-9]{2})?"


class ExportFormatConverter(ProvinceCodeConverter):
    regex = "csv|xlsx"


def register() -> None:
    """Register the converters; config.urls calls it before it includes the apps' URLs."""
    register_converter(IdConverter, "id")
    register_converter(ProvinceCodeConverter, "province_code")
    register_converter(CommuneCodeConverter, "commune_code")
    register_converter(ExportFormatConverter, "export_format")
