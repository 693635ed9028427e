//! S3 errors and their AWS codes, statuses and messages: the one place they are mapped.

use cloudemu_core::ServiceError;

#[derive(Debug, thiserror::Error)]
pub enum S3Error {
    #[error("The specified bucket does not exist")]
    NoSuchBucket(String),
    #[error("The specified key does not exist.")]
    NoSuchKey(String),
    #[error("The requested bucket name is not available. The bucket namespace is shared by all users of the system. Please select a different name and try again.")]
    BucketAlreadyExists(String),
    #[error("Your previous request to create the named bucket succeeded and you already own it.")]
    BucketAlreadyOwnedByYou(String),
    #[error("The bucket you tried to delete is not empty")]
    BucketNotEmpty(String),
    #[error("The specified bucket is not valid.")]
    InvalidBucketName(String),
    #[error("The specified location-constraint is not valid")]
    InvalidLocationConstraint(String),
    /// The request's region and its location constraint disagree.
    #[error("The {0} location constraint is incompatible for the region specific endpoint this request was sent to.")]
    IllegalLocationConstraint(String),
    #[error("{message}")]
    InvalidArgument {
        message: String,
        name: String,
        value: String,
    },
    #[error("{0}")]
    InvalidRequest(String),
    #[error("Your key is too long")]
    KeyTooLong,
    /// The condition header that failed.
    #[error("At least one of the pre-conditions you specified did not hold")]
    PreconditionFailed(&'static str),
    /// A read whose conditions say the client's copy is current; a 304 still names the
    /// object's ETag and Last-Modified (HTTP date).
    #[error("Not Modified")]
    NotModified { etag: String, last_modified: String },
    /// A conditional write whose object changed while its body was uploading.
    #[error("A conflicting conditional operation is currently in progress against this resource. Please try again.")]
    ConditionalRequestConflict,
    /// `If-Match` on a write to a key that does not exist.
    #[error("The specified key does not exist.")]
    NoSuchKeyForCondition,
    #[error("The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.")]
    NoSuchUpload(String),
    #[error("The list of parts was not in ascending order. Parts must be ordered by part number.")]
    InvalidPartOrder,
    #[error("One or more of the specified parts could not be found.  The part may not have been uploaded, or the specified entity tag may not match the part's entity tag.")]
    InvalidPart,
    #[error("Your proposed upload is smaller than the minimum allowed size")]
    EntityTooSmall {
        size: i64,
        part_number: i64,
        etag: String,
    },
    /// A sub-resource that was never configured: AWS's code and message.
    #[error("{message}")]
    NotConfigured {
        code: &'static str,
        message: &'static str,
        bucket: String,
    },
    #[error("{0}")]
    MalformedPolicy(String),
    #[error("Request Body is empty")]
    MissingRequestBody,
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    InvalidTag(String),
    #[error("The specified version does not exist.")]
    NoSuchVersion { key: String, version_id: String },
    /// A read of a key whose latest version is a delete marker (its version id).
    #[error("The specified key does not exist.")]
    DeleteMarkerLatest { key: String, version_id: String },
    /// A read of a delete marker by its version id.
    #[error("The specified method is not allowed against this resource.")]
    MethodNotAllowed {
        method: String,
        version_id: String,
        last_modified: String,
    },
    #[error("{0}")]
    InvalidBucketState(String),
    #[error(
        "The XML you provided was not well-formed or did not validate against our published schema"
    )]
    MalformedAcl,
    #[error("Access Denied")]
    AccessDenied,
    #[error("The specified object does not have a ObjectLock configuration")]
    NoObjectLockConfiguration,
    #[error("The bucket does not allow ACLs")]
    AccessControlListNotSupported,
    #[error("Bucket cannot have ACLs set with ObjectOwnership's BucketOwnerEnforced setting")]
    InvalidBucketAclWithObjectOwnership,
    #[error("This request does not support content")]
    UnexpectedContent,
    #[error("Your request was missing a required header")]
    MissingSecurityHeader,
    #[error("The requested partnumber is not satisfiable")]
    InvalidPartNumber,
    #[error("The requested range is not satisfiable")]
    InvalidRange { size: u64, range: String },
    #[error(
        "The XML you provided was not well-formed or did not validate against our published schema"
    )]
    MalformedXml,
    /// A checksum header the body does not match; the name is AWS's (`CRC32`, `Content-MD5`).
    #[error("The {0} you specified did not match the calculated checksum.")]
    BadChecksum(&'static str),
    #[error("The Content-MD5 you specified did not match what we received.")]
    BadContentMd5,
    #[error("The Content-MD5 you specified was not valid.")]
    InvalidDigest,
    #[error("Your proposed upload exceeds the maximum allowed size")]
    EntityTooLarge { proposed: u64, max: u64 },
    #[error("You did not provide the number of bytes specified by the Content-Length HTTP header")]
    IncompleteBody,
    /// An upload whose length was not declared before its body.
    #[error("You must provide the Content-Length HTTP header.")]
    MissingContentLength,
    /// S3 does not take uploads in chunked transfer coding, with or without a length.
    #[error("A header you provided implies functionality that is not implemented")]
    ChunkedTransferNotImplemented,
    /// An error the request body stream failed with (framing, payload hash).
    #[error("{0}")]
    Body(Box<ServiceError>),
    #[error(transparent)]
    Storage(#[from] cloudemu_storage::StorageError),
}

impl From<S3Error> for ServiceError {
    fn from(e: S3Error) -> Self {
        let msg = e.to_string();
        let client = |code: &str, status: u16| ServiceError::client(code, status, msg.clone());
        match e {
            S3Error::NoSuchBucket(b) => client("NoSuchBucket", 404).with_field("BucketName", b),
            S3Error::NoSuchKey(k) => client("NoSuchKey", 404).with_field("Key", k),
            S3Error::BucketAlreadyExists(b) => {
                client("BucketAlreadyExists", 409).with_field("BucketName", b)
            }
            S3Error::BucketAlreadyOwnedByYou(b) => {
                client("BucketAlreadyOwnedByYou", 409).with_field("BucketName", b)
            }
            S3Error::BucketNotEmpty(b) => client("BucketNotEmpty", 409).with_field("BucketName", b),
            S3Error::InvalidBucketName(b) => {
                client("InvalidBucketName", 400).with_field("BucketName", b)
            }
            S3Error::InvalidLocationConstraint(c) => {
                client("InvalidLocationConstraint", 400).with_field("LocationConstraint", c)
            }
            S3Error::IllegalLocationConstraint(_) => {
                client("IllegalLocationConstraintException", 400)
            }
            S3Error::InvalidArgument { name, value, .. } => {
                // Some refusals name no argument (lifecycle rules) or no value (a default
                // retention period): AWS leaves those elements out rather than empty.
                let mut e = client("InvalidArgument", 400);
                if !name.is_empty() {
                    e = e.with_field("ArgumentName", name);
                }
                if !value.is_empty() {
                    e = e.with_field("ArgumentValue", value);
                }
                e
            }
            S3Error::InvalidRequest(_) => client("InvalidRequest", 400),
            S3Error::KeyTooLong => client("KeyTooLongError", 400),
            S3Error::PreconditionFailed(c) => {
                client("PreconditionFailed", 412).with_field("Condition", c)
            }
            S3Error::NotModified {
                etag,
                last_modified,
            } => client("NotModified", 304)
                .with_field("ETag", etag)
                .with_field("LastModified", last_modified),
            S3Error::ConditionalRequestConflict => client("ConditionalRequestConflict", 409),
            S3Error::NoSuchKeyForCondition => client("NoSuchKey", 404),
            S3Error::NoSuchUpload(id) => client("NoSuchUpload", 404).with_field("UploadId", id),
            S3Error::InvalidPartOrder => client("InvalidPartOrder", 400),
            S3Error::InvalidPart => client("InvalidPart", 400),
            S3Error::EntityTooSmall {
                size,
                part_number,
                etag,
            } => client("EntityTooSmall", 400)
                .with_field("ProposedSize", size)
                .with_field("MinSizeAllowed", 5 * 1024 * 1024)
                .with_field("PartNumber", part_number)
                .with_field("ETag", etag),
            S3Error::NotConfigured { code, bucket, .. } => {
                client(code, 404).with_field("BucketName", bucket)
            }
            S3Error::MalformedPolicy(_) => client("MalformedPolicy", 400),
            S3Error::MissingRequestBody => client("MissingRequestBodyError", 400),
            S3Error::BadRequest(_) => client("BadRequest", 400),
            S3Error::InvalidTag(_) => client("InvalidTag", 400),
            S3Error::NoSuchVersion { key, version_id } => client("NoSuchVersion", 404)
                .with_field("Key", key)
                .with_field("VersionId", version_id),
            // DeleteMarker and VersionId go out as headers (the overlay's errorHeaders).
            S3Error::DeleteMarkerLatest { key, version_id } => client("NoSuchKey", 404)
                .with_field("Key", key)
                .with_field("DeleteMarker", true)
                .with_field("VersionId", version_id),
            S3Error::MethodNotAllowed {
                method,
                version_id,
                last_modified,
            } => client("MethodNotAllowed", 405)
                .with_field("Method", method)
                .with_field("ResourceType", "DeleteMarker")
                .with_field("DeleteMarker", true)
                .with_field("VersionId", version_id)
                .with_field("LastModified", last_modified)
                .with_field("Allow", "DELETE"),
            S3Error::InvalidBucketState(_) => client("InvalidBucketState", 409),
            S3Error::MalformedAcl => client("MalformedACLError", 400),
            S3Error::AccessDenied => client("AccessDenied", 403),
            S3Error::NoObjectLockConfiguration => client("NoSuchObjectLockConfiguration", 404),
            S3Error::AccessControlListNotSupported => client("AccessControlListNotSupported", 400),
            S3Error::InvalidBucketAclWithObjectOwnership => {
                client("InvalidBucketAclWithObjectOwnership", 400)
            }
            S3Error::UnexpectedContent => client("UnexpectedContent", 400),
            S3Error::MissingSecurityHeader => {
                client("MissingSecurityHeader", 400).with_field("MissingHeaderName", "x-amz-acl")
            }
            S3Error::InvalidPartNumber => client("InvalidPartNumber", 416),
            S3Error::InvalidRange { size, range } => client("InvalidRange", 416)
                .with_field("ActualObjectSize", size)
                .with_field("RangeRequested", range),
            S3Error::MalformedXml => client("MalformedXML", 400),
            S3Error::BadChecksum(_) | S3Error::BadContentMd5 => client("BadDigest", 400),
            S3Error::InvalidDigest => client("InvalidDigest", 400),
            S3Error::EntityTooLarge { proposed, max } => client("EntityTooLarge", 400)
                .with_field("ProposedSize", proposed)
                .with_field("MaxSizeAllowed", max),
            S3Error::IncompleteBody => client("IncompleteBody", 400),
            S3Error::MissingContentLength => client("MissingContentLength", 411),
            S3Error::ChunkedTransferNotImplemented => {
                client("NotImplemented", 501).with_field("Header", "Transfer-Encoding")
            }
            S3Error::Body(e) => *e,
            S3Error::Storage(e) => ServiceError::internal(e),
        }
    }
}

impl S3Error {
    /// A failed request body: the client's error when the stream says so, else the client
    /// went away mid-body.
    pub fn from_body(e: std::io::Error) -> Self {
        match cloudemu_core::body::service_error_of(&e) {
            Some(se) => S3Error::Body(Box::new(se)),
            None => S3Error::IncompleteBody,
        }
    }

    /// A storage failure while storing a body: the body's own error if that is what failed.
    pub fn from_store(e: cloudemu_storage::StorageError) -> Self {
        match e {
            // The store wraps its input stream's errors; its own I/O errors are bare.
            cloudemu_storage::StorageError::Io(io)
                if io
                    .get_ref()
                    .is_some_and(|i| i.downcast_ref::<std::io::Error>().is_some()) =>
            {
                Self::from_body(io)
            }
            other => S3Error::Storage(other),
        }
    }
}
