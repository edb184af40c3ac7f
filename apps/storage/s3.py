"""Every S3 call of the file browser, each translated by `aws_errors`.

Lists page with continuation tokens and walk with paginators, so no call holds a
whole bucket; bodies go out as file objects and come back in chunks, so none holds
a whole object. Keys are S3 keys only, never paths on this machine.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import IO, Any

from console.aws import aws_client
from console.aws_errors import AwsError, AwsNotFound, aws_errors

DELETE_BATCH = 1000  # DeleteObjects takes at most 1,000 keys
READ_CHUNK = 1024 * 1024
# CopyObject copies objects up to 5 GiB; larger ones go part by part (UploadPartCopy).
COPY_OBJECT_LIMIT = 5 * 1024**3
COPY_PART_BYTES = 512 * 1024**2
MAX_PARTS = 10_000


@dataclass(frozen=True)
class S3Object:
    key: str
    size: int
    last_modified: datetime | None = None
    etag: str = ""
    storage_class: str = ""


@dataclass(frozen=True)
class ListPage:
    folders: list[str]  # common prefixes, each ending with the delimiter
    files: list[S3Object]
    next_token: str | None


def _presign_v4(signature_version: str, **_: Any) -> str | None:
    # botocore presigns S3 with Signature Version 2 in the older regions unless told
    # otherwise; buckets made since 2020 and every newer region want version 4.
    return "s3v4-query" if signature_version.endswith("-query") else None


def client(region: str) -> Any:
    s3 = aws_client("s3", region=region)
    s3.meta.events.register("choose-signer.s3.GetObject", _presign_v4, unique_id="storage-presign-v4")
    return s3


def _object(item: dict[str, Any]) -> S3Object:
    return S3Object(
        key=item["Key"],
        size=int(item.get("Size", 0)),
        last_modified=item.get("LastModified"),
        etag=str(item.get("ETag", "")).strip('"'),
        storage_class=str(item.get("StorageClass", "")),
    )


def bucket_region(bucket: str, region: str) -> str:
    """The bucket's region (HeadBucket); AwsNotFound when there is no such bucket."""
    with aws_errors("s3:HeadBucket"):
        response = client(region).head_bucket(Bucket=bucket)
    headers = response.get("ResponseMetadata", {}).get("HTTPHeaders", {})
    return str(response.get("BucketRegion") or headers.get("x-amz-bucket-region") or region)


def list_page(bucket: str, region: str, *, prefix: str, max_keys: int, token: str | None = None) -> ListPage:
    """One page of a folder: subfolders and files, S3's order, at most `max_keys` of both."""
    params: dict[str, Any] = {"Bucket": bucket, "Prefix": prefix, "Delimiter": "/", "MaxKeys": max_keys}
    if token:
        params["ContinuationToken"] = token
    with aws_errors("s3:ListObjectsV2"):
        response = client(region).list_objects_v2(**params)
    return ListPage(
        folders=[p["Prefix"] for p in response.get("CommonPrefixes", [])],
        files=[_object(item) for item in response.get("Contents", [])],
        next_token=response.get("NextContinuationToken") if response.get("IsTruncated") else None,
    )


def walk(bucket: str, region: str, prefix: str) -> Iterator[S3Object]:
    """Every object under `prefix` (all depths), a listing page at a time."""
    pages = client(region).get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
    iterator = iter(pages)
    while True:
        with aws_errors("s3:ListObjectsV2"):
            page = next(iterator, None)
        if page is None:
            return
        for item in page.get("Contents", []):
            yield _object(item)


def head(bucket: str, region: str, key: str) -> dict[str, Any] | None:
    """The object's metadata (HeadObject), None when there is no such key."""
    try:
        with aws_errors("s3:HeadObject"):
            return dict(client(region).head_object(Bucket=bucket, Key=key))
    except AwsNotFound:
        return None


def presigned_get(bucket: str, region: str, key: str, *, disposition: str, content_type: str | None, expires: int) -> str:
    params = {"Bucket": bucket, "Key": key, "ResponseContentDisposition": disposition}
    if content_type:
        params["ResponseContentType"] = content_type
    with aws_errors("s3:GetObject"):
        return str(client(region).generate_presigned_url("get_object", Params=params, ExpiresIn=expires))


def read_start(bucket: str, region: str, key: str, limit: int) -> bytes:
    """The first `limit` bytes of an object (a ranged GET)."""
    with aws_errors("s3:GetObject"):
        response = client(region).get_object(Bucket=bucket, Key=key, Range=f"bytes=0-{max(limit - 1, 0)}")
        return bytes(response["Body"].read(limit))


@dataclass(frozen=True)
class OpenObject:
    length: int
    content_type: str
    chunks: Iterator[bytes]


def open_chunks(bucket: str, region: str, key: str, chunk_size: int = READ_CHUNK) -> Iterator[bytes]:
    """The object's bytes, `chunk_size` at a time. The GET starts at once, so a missing
    key fails here and not half-way through the caller's loop."""
    return open_object(bucket, region, key, chunk_size).chunks


def open_object(bucket: str, region: str, key: str, chunk_size: int = READ_CHUNK) -> OpenObject:
    """The object's length and stored type, and its bytes `chunk_size` at a time (as open_chunks)."""
    with aws_errors("s3:GetObject"):
        response = client(region).get_object(Bucket=bucket, Key=key)
    body = response["Body"]

    def chunks() -> Iterator[bytes]:
        try:
            iterator = body.iter_chunks(chunk_size)
            while True:
                with aws_errors("s3:GetObject"):
                    chunk = next(iterator, None)
                if chunk is None:
                    return
                yield chunk
        finally:
            body.close()

    length, content_type = int(response.get("ContentLength") or 0), str(response.get("ContentType") or "")
    return OpenObject(length=length, content_type=content_type, chunks=chunks())


def put(bucket: str, region: str, key: str, body: IO[bytes], length: int, content_type: str) -> None:
    with aws_errors("s3:PutObject"):
        client(region).put_object(Bucket=bucket, Key=key, Body=body, ContentLength=length, ContentType=content_type)


def put_folder(bucket: str, region: str, key: str) -> None:
    """The zero-byte `name/` marker that makes an empty folder."""
    with aws_errors("s3:PutObject"):
        client(region).put_object(Bucket=bucket, Key=key, Body=b"")


def multipart_start(bucket: str, region: str, key: str, content_type: str) -> str:
    with aws_errors("s3:CreateMultipartUpload"):
        return str(client(region).create_multipart_upload(Bucket=bucket, Key=key, ContentType=content_type)["UploadId"])


def multipart_part(bucket: str, region: str, key: str, upload_id: str, number: int, body: IO[bytes], length: int) -> str:
    with aws_errors("s3:UploadPart"):
        response = client(region).upload_part(
            Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=number, Body=body, ContentLength=length
        )
    return str(response["ETag"])


def multipart_parts(bucket: str, region: str, key: str, upload_id: str) -> list[tuple[int, str, int]]:
    """(number, ETag, size) of every part S3 holds for the upload."""
    parts = []
    pages = client(region).get_paginator("list_parts").paginate(Bucket=bucket, Key=key, UploadId=upload_id)
    with aws_errors("s3:ListParts"):
        for page in pages:
            parts += [(int(p["PartNumber"]), str(p["ETag"]), int(p["Size"])) for p in page.get("Parts", [])]
    return sorted(parts)


def multipart_complete(bucket: str, region: str, key: str, upload_id: str, parts: list[tuple[int, str]]) -> None:
    with aws_errors("s3:CompleteMultipartUpload"):
        client(region).complete_multipart_upload(
            Bucket=bucket,
            Key=key,
            UploadId=upload_id,
            MultipartUpload={"Parts": [{"PartNumber": number, "ETag": etag} for number, etag in parts]},
        )


def multipart_abort(bucket: str, region: str, key: str, upload_id: str) -> None:
    try:
        with aws_errors("s3:AbortMultipartUpload"):
            client(region).abort_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id)
    except AwsNotFound:
        pass  # already gone: completed or aborted before


# Characters an XML 1.0 request body cannot carry as they are (a CR would be read back as LF).
_NOT_IN_XML = re.compile("[\x00-\x08\x0b\x0c\x0d\x0e-\x1f\ufffe\uffff]")


def delete_batch(bucket: str, region: str, keys: list[str]) -> list[tuple[str, str]]:
    """Delete up to 1,000 keys in one call; (key, reason) of those S3 did not delete.
    Keys XML cannot carry go one by one (DeleteObject has the key in the URL)."""
    if len(keys) > DELETE_BATCH:
        raise ValueError(f"DeleteObjects takes at most {DELETE_BATCH} keys")
    failures = []
    for key in [k for k in keys if _NOT_IN_XML.search(k)]:
        try:
            with aws_errors("s3:DeleteObject"):
                client(region).delete_object(Bucket=bucket, Key=key)
        except AwsError as error:
            failures.append((key, str(error)))
    keys = [k for k in keys if not _NOT_IN_XML.search(k)]
    return failures + _delete_objects(bucket, region, keys) if keys else failures


def _delete_objects(bucket: str, region: str, keys: list[str]) -> list[tuple[str, str]]:
    with aws_errors("s3:DeleteObjects"):
        response = client(region).delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": key} for key in keys], "Quiet": True})
    return [
        (str(e.get("Key", "")), f"{e.get('Code', 'Error')}: {e.get('Message', '')}".strip()) for e in response.get("Errors", [])
    ]


def copy(bucket: str, region: str, source: str, target: str, size: int) -> None:
    """Copy one object inside the bucket, keeping its content type and metadata."""
    if size > COPY_OBJECT_LIMIT:
        copy_in_parts(bucket, region, source, target, size)
        return
    with aws_errors("s3:CopyObject"):
        client(region).copy_object(Bucket=bucket, Key=target, CopySource={"Bucket": bucket, "Key": source})


def copy_in_parts(bucket: str, region: str, source: str, target: str, size: int) -> None:
    """A multipart copy (UploadPartCopy with byte ranges), for objects CopyObject refuses."""
    s3 = client(region)
    described = head(bucket, region, source)
    if described is None:
        raise AwsNotFound(f"s3:HeadObject: not found ({source})", action="s3:HeadObject", code="NoSuchKey")
    start: dict[str, Any] = {"Bucket": bucket, "Key": target, "Metadata": described.get("Metadata", {})}
    for field in ("ContentType", "ContentDisposition", "ContentEncoding", "ContentLanguage", "CacheControl"):
        if described.get(field):
            start[field] = described[field]
    if described.get("StorageClass"):
        start["StorageClass"] = described["StorageClass"]
    with aws_errors("s3:CreateMultipartUpload"):
        upload_id = s3.create_multipart_upload(**start)["UploadId"]
    part_bytes = max(COPY_PART_BYTES, -(-size // MAX_PARTS))
    parts = []
    try:
        for number, offset in enumerate(range(0, size, part_bytes), start=1):
            last = min(offset + part_bytes, size) - 1
            with aws_errors("s3:UploadPartCopy"):
                response = s3.upload_part_copy(
                    Bucket=bucket,
                    Key=target,
                    UploadId=upload_id,
                    PartNumber=number,
                    CopySource={"Bucket": bucket, "Key": source},
                    CopySourceRange=f"bytes={offset}-{last}",
                )
            parts.append((number, str(response["CopyPartResult"]["ETag"])))
        multipart_complete(bucket, region, target, upload_id, parts)
    except AwsError:
        multipart_abort(bucket, region, target, upload_id)
        raise
