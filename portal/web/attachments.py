"""Serving a case's documents: the same response for staff and applicants, once each has been allowed to see the case."""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import quote

from starlette.responses import Response

from portal.queue import attachments
from portal.web.endpoint import Ctx

if TYPE_CHECKING:  # types only: pages reach the tables through services (tests/test_structure.py)
    from portal.models import Case


def attachment_download(ctx: Ctx, case: Case) -> Response:
    """A case's document, always as a download and never sniffed, so it cannot run as a page of this site."""
    row = attachments.load(ctx.db, case=case, attachment_id=ctx.path_params["attachment_id"])
    ascii_name = row.filename.encode("ascii", "ignore").decode().replace('"', "").replace("\\", "") or "document"
    return Response(row.content, media_type=row.content_type, headers={
        "Content-Disposition": f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(row.filename)}",
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "private, no-store",
    })
