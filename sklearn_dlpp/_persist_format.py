"""The container of a saved estimator: a safetensors file read with bounds, digests and keys.

:mod:`sklearn_dlpp._persist` turns estimators into a JSON document and tensors
and back; this module writes them into one safetensors file and reads them out
of it without trusting the file. Reading parses the header with a size cap,
checks every declared tensor (name, dtype, shape, byte range) against the
others and the file size, and verifies the integrity digest or, with a key, the
HMAC-SHA256 signature over the document and every tensor's name, dtype, shape
and bytes, all before a tensor is made: nothing is allocated beyond the file's
own bytes until the file is known to be what was saved.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import math
import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

KEY_ENVIRONMENT_VARIABLE = "SKLEARN_DLPP_MODEL_KEY"
"""Name of the environment variable that :func:`sklearn_dlpp.save` and
:func:`sklearn_dlpp.load` read a signing key from when ``key`` is None."""

MIN_KEY_BYTES = 16
# The safetensors header holds the estimator document (parameters, fitted attributes:
# classes, feature names, loss curves) and one short entry per tensor. A model's
# header is a few kilobytes; the cap bounds what parsing a hostile header costs.
MAX_HEADER_BYTES = 4 << 20
MAX_JSON_CONTAINERS = 100_000
# Every tensor is a network module's parameter: laying out (on the meta device) a
# network of many more modules than this would take seconds. A 500-layer MLP has
# 1,002 tensors, a 100-block graph network about 1,000.
MAX_TENSORS = 1024
MAX_DIMENSIONS = 8

DOCUMENT_KEY = "sklearn_dlpp"
DIGEST_KEY = "sklearn_dlpp_sha256"
SIGNATURE_KEY = "sklearn_dlpp_hmac_sha256"
_METADATA_KEYS = frozenset({DOCUMENT_KEY, DIGEST_KEY, SIGNATURE_KEY})
# Domain separation: a signature made for this format is no valid MAC of anything else.
_SIGNATURE_CONTEXT = b"sklearn-dlpp model signature v1\0"

# safetensors dtype name -> torch dtype and item size.
DTYPES: dict[str, tuple[torch.dtype, int]] = {
    "F64": (torch.float64, 8),
    "F32": (torch.float32, 4),
    "F16": (torch.float16, 2),
    "BF16": (torch.bfloat16, 2),
    "I64": (torch.int64, 8),
    "I32": (torch.int32, 4),
    "I16": (torch.int16, 2),
    "I8": (torch.int8, 1),
    "U8": (torch.uint8, 1),
}


@dataclass(frozen=True)
class Entry:
    """A tensor declared by the header: its dtype, shape and byte range in the buffer."""

    dtype: torch.dtype
    itemsize: int
    shape: tuple[int, ...]
    begin: int
    end: int


@dataclass(frozen=True)
class Container:
    """A read file: the estimator document, the declared tensors and their bytes."""

    text: str
    entries: dict[str, Entry]
    buffer: bytearray
    digest: str
    signature: str | None


# ----------------------------------------------------------------------- keys
def resolve_key(key: Any) -> bytes | None:
    """The signing key as bytes: ``key``, else the environment variable, else None.

    ``key=False`` means no key whatever the environment says.
    """
    if key is False:
        return None
    where = "key"
    if key is None:
        key = os.environ.get(KEY_ENVIRONMENT_VARIABLE)
        if key is None:
            return None
        where = f"the environment variable {KEY_ENVIRONMENT_VARIABLE}"
    if isinstance(key, str):
        key = key.encode()
    elif isinstance(key, (bytes, bytearray, memoryview)):
        key = bytes(key)
    else:
        msg = f"key must be str, bytes, None or False, got {type(key).__name__}."
        raise TypeError(msg)
    if len(key) < MIN_KEY_BYTES:
        msg = (
            f"{where} holds a key of {len(key)} bytes; a signing key needs at least "
            f'{MIN_KEY_BYTES}. Make one with: python -c "import secrets; '
            'print(secrets.token_hex(32))"'
        )
        raise ValueError(msg)
    return key


# ---------------------------------------------------------------------- write
def encode(tensors: dict[str, Tensor], text: str, key: bytes | None) -> bytes:
    """The file's bytes: safetensors with the document, its digest and maybe a signature."""
    import safetensors.torch

    raw = {name: _tensor_bytes(tensor) for name, tensor in tensors.items()}
    parts = {
        name: (str(tensor.dtype), tuple(tensor.shape), raw[name])
        for name, tensor in tensors.items()
    }
    metadata = {DOCUMENT_KEY: text, DIGEST_KEY: _digest(text, parts)}
    if key is not None:
        metadata[SIGNATURE_KEY] = _signature(key, text, parts)
    return safetensors.torch.save(tensors, metadata=metadata)


def _tensor_bytes(tensor: Tensor) -> memoryview:
    flat = tensor.detach().to("cpu").contiguous().reshape(-1)
    return memoryview(flat.view(torch.uint8).numpy())


# ----------------------------------------------------------------------- read
def require_safetensors() -> Any:
    """safetensors' torch module, or an ImportError that says how to install it."""
    try:
        import safetensors.torch
    except ImportError as exc:
        msg = (
            "save needs the safetensors package: pip install 'sklearn-dlpp[persist]' "
            "(or pickle/joblib, which need nothing)."
        )
        raise ImportError(msg) from exc
    return safetensors.torch


def write(path: Path, payload: bytes) -> None:
    """Write to a new file beside ``path``, then rename it over ``path``."""
    # open(..., "xb") rather than mkstemp: the file gets the user's umask (mkstemp's
    # 0600 would hide the model from colleagues on a shared machine).
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    try:
        with open(temporary, "xb") as f:
            f.write(payload)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def read(path: Path) -> Container:
    """Parse and check the file's header, then read its tensor bytes (not yet tensors)."""
    not_ours = f"{path} is not a safetensors file written by sklearn_dlpp.save"
    with open(path, "rb") as f:
        size = os.fstat(f.fileno()).st_size
        prefix = f.read(8)
        if len(prefix) < 8:
            raise ValueError(not_ours + " (too short).")
        length = int.from_bytes(prefix, "little")
        if length > size - 8:
            raise ValueError(not_ours + " (bad header length).")
        if length > MAX_HEADER_BYTES:
            msg = (
                f"{path} declares a header of {length} bytes; sklearn_dlpp reads headers of "
                f"at most {MAX_HEADER_BYTES} bytes."
            )
            raise ValueError(msg)
        header_bytes = f.read(length)
        if len(header_bytes) != length:
            raise ValueError(not_ours + " (the file changed while it was read).")
        check_header_size(header_bytes, path)
        text, digest, signature, entries = _parse_header(header_bytes, path)
        # Only now, with every declared range checked, is the rest of the file read.
        _check_layout(entries, size - 8 - length, path)
        buffer = bytearray(size - 8 - length)
        if f.readinto(buffer) != len(buffer):
            raise ValueError(not_ours + " (the file changed while it was read).")
    return Container(text, entries, buffer, digest, signature)


def check_header_size(header_bytes: bytes, where: Any) -> None:
    """Refuse a header that would take long to parse: too many JSON lists and objects.

    Counting brackets bounds them (brackets inside strings count too, which errs
    on the safe side); a model's header has a few per tensor and per fitted
    attribute, while a hostile one packed with ``[]`` would cost seconds.
    """
    containers = header_bytes.count(b"[") + header_bytes.count(b"{")
    if containers > MAX_JSON_CONTAINERS:
        msg = (
            f"{where} holds {containers} JSON lists and objects in its header; sklearn_dlpp "
            f"reads at most {MAX_JSON_CONTAINERS}."
        )
        raise ValueError(msg)


def _parse_header(header_bytes: bytes, path: Path) -> tuple[str, str, str | None, dict[str, Entry]]:
    """The document, digest, signature and tensor entries of a safetensors header."""
    not_ours = f"{path} is not a safetensors file written by sklearn_dlpp.save"
    try:
        header = json.loads(header_bytes)
    except (ValueError, RecursionError) as exc:
        raise ValueError(not_ours + " (unreadable header).") from exc
    if not isinstance(header, dict):
        raise ValueError(not_ours + " (the header is not a JSON object).")
    metadata = header.pop("__metadata__", None)
    if not isinstance(metadata, dict) or DOCUMENT_KEY not in metadata:
        msg = (
            f"{path} holds no sklearn_dlpp estimator: it may be a safetensors file written "
            "by another tool (only files written by sklearn_dlpp.save can be loaded)."
        )
        raise ValueError(msg)
    unknown = sorted(set(metadata) - _METADATA_KEYS)
    text, digest = metadata.get(DOCUMENT_KEY), metadata.get(DIGEST_KEY)
    signature = metadata.get(SIGNATURE_KEY)
    if (
        unknown
        or not isinstance(text, str)
        or not isinstance(digest, str)
        or not isinstance(signature, (str, type(None)))
    ):
        raise ValueError(not_ours + " (malformed metadata).")
    if len(header) > MAX_TENSORS:
        msg = f"{path} declares {len(header)} tensors; sklearn_dlpp reads at most {MAX_TENSORS}."
        raise ValueError(msg)
    entries = {name: _entry(name, value, path) for name, value in header.items()}
    return text, digest, signature, entries


def _entry(name: str, value: Any, path: Path) -> Entry:
    """One header entry, checked: known dtype, small non-negative shape, a byte range."""
    bad = f"{path}: tensor {name[:80]!r} is declared wrongly in the header"
    if not isinstance(value, dict) or set(value) != {"dtype", "shape", "data_offsets"}:
        raise ValueError(bad + " (it needs exactly dtype, shape and data_offsets).")
    dtype, shape, offsets = value["dtype"], value["shape"], value["data_offsets"]
    if dtype not in DTYPES:
        msg = f"{bad} (dtype {str(dtype)[:20]!r} is not one of {sorted(DTYPES)})."
        raise ValueError(msg)
    if (
        not isinstance(shape, list)
        or len(shape) > MAX_DIMENSIONS
        or not all(_natural(n) for n in shape)
    ):
        raise ValueError(bad + f" (shape must be a list of at most {MAX_DIMENSIONS} sizes).")
    if not isinstance(offsets, list) or len(offsets) != 2 or not all(map(_natural, offsets)):
        raise ValueError(bad + " (data_offsets must be [begin, end]).")
    torch_dtype, itemsize = DTYPES[dtype]
    begin, end = offsets
    if end - begin != math.prod(shape) * itemsize:
        msg = f"{bad} (shape {tuple(shape)} of {dtype} does not fill bytes {begin} to {end})."
        raise ValueError(msg)
    return Entry(torch_dtype, itemsize, tuple(shape), begin, end)


def _natural(n: Any) -> bool:
    return isinstance(n, int) and not isinstance(n, bool) and n >= 0


def _check_layout(entries: dict[str, Entry], size: int, path: Path) -> None:
    """The tensors tile the data buffer exactly: no gap, no overlap, nothing after."""
    position = 0
    for entry in sorted(entries.values(), key=lambda e: (e.begin, e.end)):
        if entry.begin != position:
            msg = f"{path}: the tensors' byte ranges overlap or leave gaps."
            raise ValueError(msg)
        position = entry.end
    if position != size:
        msg = f"{path}: the tensors take {position} bytes, the file holds {size}."
        raise ValueError(msg)


# --------------------------------------------------------------------- verify
def verify(container: Container, key: bytes | None, path: Path) -> None:
    """Raise ValueError unless the signature (with a key) or the digest (without) matches."""
    parts = {
        name: (str(entry.dtype), entry.shape, memoryview(container.buffer)[entry.begin : entry.end])
        for name, entry in container.entries.items()
    }
    if key is not None:
        if container.signature is None:
            msg = (
                f"{path} is not signed, and a key was given (key= or "
                f"{KEY_ENVIRONMENT_VARIABLE}): its origin cannot be checked. Load it with "
                "key=False only if you trust where it came from."
            )
            raise ValueError(msg)
        expected = _signature(key, container.text, parts)
        if not hmac.compare_digest(expected, container.signature):
            msg = (
                f"{path} was not signed with this key, or was modified after it was signed: "
                "its HMAC-SHA256 signature does not match."
            )
            raise ValueError(msg)
        return
    if not hmac.compare_digest(_digest(container.text, parts), container.digest):
        msg = (
            f"{path} was modified or corrupted after it was saved: its SHA-256 digest does "
            "not match its contents."
        )
        raise ValueError(msg)


Parts = dict[str, tuple[str, tuple[int, ...], memoryview]]


def _message(text: str, parts: Parts) -> Iterator[bytes | memoryview]:
    """What the digest and the signature cover: the document, then every tensor by name."""
    yield text.encode()
    for name in sorted(parts):
        dtype, shape, raw = parts[name]
        yield f"\0{name}\0{dtype}\0{shape}\0".encode()
        yield raw


def _digest(text: str, parts: Parts) -> str:
    digest = hashlib.sha256()
    for chunk in _message(text, parts):
        digest.update(chunk)
    return digest.hexdigest()


def _signature(key: bytes, text: str, parts: Parts) -> str:
    mac = hmac.new(key, _SIGNATURE_CONTEXT, hashlib.sha256)
    for chunk in _message(text, parts):
        mac.update(chunk)
    return mac.hexdigest()


# ---------------------------------------------------------------- materialize
def tensors(container: Container) -> dict[str, Tensor]:
    """The declared tensors, sharing the file's buffer (copied only where misaligned)."""
    out = {}
    for name, entry in container.entries.items():
        count = math.prod(entry.shape)
        if count == 0:
            out[name] = torch.empty(entry.shape, dtype=entry.dtype)
            continue
        flat = torch.frombuffer(
            container.buffer, dtype=entry.dtype, count=count, offset=entry.begin
        )
        if flat.data_ptr() % entry.itemsize:
            flat = flat.clone()
        out[name] = flat.reshape(entry.shape)
    return out
