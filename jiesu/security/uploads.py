"""One check for every uploaded file: size and real type (by content, not by name).

Jiesu takes no uploads through the web yet (imports run from the command line); any view that
starts to must pass each file through ``check_upload`` before it reads it::

    kind = check_upload(request.FILES["file"], kinds={"xlsx", "csv"}, max_bytes=5 * 1024 * 1024)

Requests as a whole are capped by ``DATA_UPLOAD_MAX_MEMORY_SIZE`` (settings).
"""

from __future__ import annotations

from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext_lazy as _

from jiesu.orders.errors import InvalidInput

DEFAULT_MAX_BYTES = 5 * 1024 * 1024
# kind → leading bytes of a real file of that kind
MAGIC = {
    "xlsx": (b"PK\x03\x04",),
    "pdf": (b"%PDF-",),
    "png": (b"\x89PNG\r\n\x1a\n",),
    "jpeg": (b"\xff\xd8\xff",),
}


class UploadRejected(InvalidInput):
    status = 422

    def __init__(self, message, *, code: str, **params) -> None:
        super().__init__(message, field="file", **params)
        self.code = code


def _is_text(head: bytes) -> bool:
    if b"\x00" in head:
        return False
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            head.decode(encoding)
        except UnicodeDecodeError as err:
            if err.start >= len(head) - 4:  # a character cut at the end of the sample
                return True
            continue
        return True
    return False


def check_upload(file: UploadedFile, *, kinds: set[str], max_bytes: int = DEFAULT_MAX_BYTES) -> str:
    """The file's kind (one of ``kinds``), or UploadRejected with a message for the user."""
    size = file.size or 0
    if size > max_bytes:
        raise UploadRejected(_("The file is too large: at most %(mb)s MB."), code="upload_size",
                             mb=round(max_bytes / 1024 / 1024, 1))
    file.seek(0)
    head = file.read(4096)
    file.seek(0)
    for kind in kinds:
        if kind == "csv" and _is_text(head):
            return kind
        if any(head.startswith(m) for m in MAGIC.get(kind, ())):
            return kind
    raise UploadRejected(_("This kind of file is not accepted here (accepted: %(kinds)s)."), code="upload_type",
                         kinds=", ".join(sorted(kinds)))
