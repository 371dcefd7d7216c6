"""Registry import APIs: upload a sheet, follow its job, download its errors as XLSX."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response

from config import timestamps
from config.spreadsheets import RowError, errors_workbook
from members.models import ImportJob
from members.registry_import.jobs import import_job_create, import_job_processed

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class ImportUploadInput(serializers.Serializer):
    file = serializers.FileField(
        help_text=(
            "The registry sheet, .csv (UTF-8) or .xlsx, at most 10 MB. An XLSX must unpack to at most "
            "IMPORT_MAX_UNPACKED_MB (50 MB) in at most IMPORT_MAX_ZIP_PARTS (1,000) parts; rows, columns, "
            "characters a cell and reading time are limited too (IMPORT_MAX_*), each named in its error. "
            "Each row names its commune by commune_code, or on the 2024 map by old_commune_code, or by "
            "old_commune, old_district and old_province."
        )
    )
    accept_default_successor = serializers.BooleanField(
        required=False,
        default=False,
        help_text="Place the rows of a divided 2024-map commune that no hamlet decides in its default successor; "
        "each such row is listed in the job's warnings. Without it they are errors that list the candidates.",
    )


class ImportErrorOutput(serializers.Serializer):
    row = serializers.IntegerField(help_text="The row in the sheet (the header is row 1; 0 is the whole file).")
    column = serializers.CharField()
    message = serializers.CharField()


class ImportJobOutput(timestamps.ModelSerializer):
    province = serializers.CharField(source="province.code")
    status_label = serializers.CharField(source="get_status_display")
    processed = serializers.SerializerMethodField()
    error_count = serializers.SerializerMethodField()
    errors = ImportErrorOutput(many=True)
    warnings = ImportErrorOutput(many=True, help_text="Rows placed in a default successor: to check.")

    class Meta:
        model = ImportJob
        fields = [
            "id",
            "province",
            "filename",
            "status",
            "status_label",
            "total",
            "processed",
            "error_count",
            "errors",
            "warnings",
            "accept_default_successor",
            "summary",
            "created_at",
            "started_at",
            "finished_at",
        ]

    def get_processed(self, job) -> int:
        return import_job_processed(job)

    def get_error_count(self, job) -> int:
        return len(job.errors)


def _jobs(user):
    # The file itself (up to 10 MB) is never sent back, so it is never loaded here.
    return ImportJob.objects.visible_to(user).select_related("province").defer("content")


class ImportListApi(GenericAPIView):
    parser_classes = [MultiPartParser]
    serializer_class = ImportJobOutput

    @extend_schema(
        request={"multipart/form-data": ImportUploadInput},
        responses={
            201: ImportJobOutput,
            200: OpenApiResponse(ImportJobOutput, description="The same file was already uploaded: its job."),
            400: OpenApiResponse(
                description="Not a .csv or .xlsx, not UTF-8, not a readable workbook, or too many parts: `file`."
            ),
            413: OpenApiResponse(description="The file is larger than 10 MB, or its workbook unpacks too large."),
        },
    )
    def post(self, request):
        """Upload a registry sheet (province admins, for their province); it is imported by a background job."""
        data = ImportUploadInput(data=request.data)
        data.is_valid(raise_exception=True)
        job, created = import_job_create(
            actor=request.user,
            upload=data.validated_data["file"],
            accept_default_successor=data.validated_data["accept_default_successor"],
        )
        body = ImportJobOutput(_jobs(request.user).get(pk=job.pk)).data
        return Response(body, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


class ImportDetailApi(GenericAPIView):
    serializer_class = ImportJobOutput

    def get(self, request, pk):
        """The job's status, progress (processed of total rows) and errors."""
        return Response(ImportJobOutput(get_object_or_404(_jobs(request.user), pk=pk)).data)


class ImportErrorsApi(GenericAPIView):
    serializer_class = None

    def perform_content_negotiation(self, request, force=False):
        # A file download: a client that asks for XLSX only must not get 406 from the JSON renderer.
        return super().perform_content_negotiation(request, force=True)

    @extend_schema(responses={(200, XLSX): OpenApiTypes.BINARY})
    def get(self, request, pk):
        """The job's errors as an XLSX sheet (row, column, message)."""
        job = get_object_or_404(_jobs(request.user), pk=pk)
        content = errors_workbook([RowError(e["row"], e["column"], e["message"]) for e in job.errors])
        response = HttpResponse(content, content_type=XLSX)
        response["Content-Disposition"] = f'attachment; filename="import-{job.pk}-errors.xlsx"'
        return response
