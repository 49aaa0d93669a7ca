"""Call references in a share link's URLs: opaque, and meaningful under that link only.

A shared view's drawer and recording links name a call by a reference, never by its id: ids
are sequential, so an id in a URL invites its neighbours, and a reference made for one link
must open nothing under another. A reference is one AES block (a keyed permutation of 128
bits, so one block needs no mode beyond ECB) holding a fixed tag, the link's id and the call's
id, keyed from the server's secret key through HKDF. It decodes only with the same key and
link id; anything else (a guess, another link's reference, a tampered one) decodes to None.

Being able to name a call is not being allowed to see it: the shared routes still check the
call is in the link's view (`call_log.in_view`).
"""

from __future__ import annotations

import base64
import binascii
from functools import lru_cache
from typing import Final

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

_TAG: Final = b"RFcall"  # 6 bytes: a decoded block without it was not made here
_ID_BYTES: Final = 5  # ids up to 2**40 (the schema's ids are 32-bit)
_INFO: Final = b"ringfence share-link call references v1"
_REF_LENGTH: Final = 22  # 16 bytes, URL-safe base64 without padding


@lru_cache(maxsize=8)
def _cipher(secret: str) -> Cipher[modes.ECB]:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO).derive(secret.encode())
    return Cipher(algorithms.AES(key), modes.ECB())


def call_ref(secret: str, link_id: int, job_id: int) -> str:
    """The reference of call `job_id` under link `link_id`."""
    block = _TAG + link_id.to_bytes(_ID_BYTES, "big") + job_id.to_bytes(_ID_BYTES, "big")
    encryptor = _cipher(secret).encryptor()
    sealed = encryptor.update(block) + encryptor.finalize()
    return base64.urlsafe_b64encode(sealed).rstrip(b"=").decode("ascii")


def job_of_ref(secret: str, link_id: int, ref: str) -> int | None:
    """The call a reference names under link `link_id`, or None (not one of ours, or made
    for another link)."""
    if len(ref) != _REF_LENGTH:
        return None
    try:
        sealed = base64.urlsafe_b64decode(ref + "==")
    except (binascii.Error, ValueError):
        return None
    if len(sealed) != 16:
        return None
    decryptor = _cipher(secret).decryptor()
    block = decryptor.update(sealed) + decryptor.finalize()
    tag, link, job = block[:6], block[6 : 6 + _ID_BYTES], block[6 + _ID_BYTES :]
    if tag != _TAG or int.from_bytes(link, "big") != link_id:
        return None
    job_id = int.from_bytes(job, "big")
    return job_id if job_id > 0 else None
