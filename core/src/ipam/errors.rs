//! IPAM errors with Calico's exact texts. The kind lets callers test for Calico's sentinel errors
//! (`errors.Is`) and error types without parsing messages.

use std::fmt;

/// Which Calico error (sentinel or type) an [`IpamError`] corresponds to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IpamErrorKind {
    /// `ErrNoQualifiedPool`: `cannot find a qualified ippool` (possibly wrapped).
    NoQualifiedPool,
    /// `ErrBlockLimit`: `cannot allocate new block due to per host block limit`.
    BlockLimit,
    /// `ErrStrictAffinity`: Windows nodes require strict affinity.
    StrictAffinity,
    /// `ErrUseRequired`: no intended use given to AutoAssign.
    UseRequired,
    /// `ErrorResourceDoesNotExist`.
    ResourceDoesNotExist,
    /// `ErrorResourceAlreadyExists` (address already assigned).
    ResourceAlreadyExists,
    /// `ErrorResourceUpdateConflict` (handle or sequence number mismatch on release).
    UpdateConflict,
    /// A block that is not empty where an empty one is required.
    BlockNotEmpty,
    /// A block claimed by another host.
    BlockClaimConflict,
    /// Any other plain error string.
    Other,
}

/// An IPAM failure: its kind plus the exact text Calico's `err.Error()` returns.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IpamError {
    pub kind: IpamErrorKind,
    pub message: String,
    /// For `ResourceAlreadyExists` / `ResourceDoesNotExist`: the resource identifier.
    pub identifier: Option<String>,
    /// For wrapped errors: the inner error's text.
    pub inner: Option<String>,
}

pub const ERR_NO_QUALIFIED_POOL: &str = "cannot find a qualified ippool";
pub const ERR_BLOCK_LIMIT: &str = "cannot allocate new block due to per host block limit";
pub const ERR_STRICT_AFFINITY: &str = "global strict affinity should not be false for Windows node";
pub const ERR_USE_REQUIRED: &str = "must specify the intended use when assigning an IP";

impl IpamError {
    pub fn new(kind: IpamErrorKind, message: impl Into<String>) -> IpamError {
        IpamError {
            kind,
            message: message.into(),
            identifier: None,
            inner: None,
        }
    }

    pub fn other(message: impl Into<String>) -> IpamError {
        IpamError::new(IpamErrorKind::Other, message)
    }

    pub fn no_qualified_pool() -> IpamError {
        IpamError::new(IpamErrorKind::NoQualifiedPool, ERR_NO_QUALIFIED_POOL)
    }

    pub fn block_limit() -> IpamError {
        IpamError::new(IpamErrorKind::BlockLimit, ERR_BLOCK_LIMIT)
    }

    /// `ErrorResourceDoesNotExist{Identifier, Err}` renders as
    /// `resource does not exist: <identifier> with error: <err>`.
    pub fn does_not_exist(identifier: impl Into<String>, inner: impl Into<String>) -> IpamError {
        let identifier = identifier.into();
        let inner = inner.into();
        IpamError {
            kind: IpamErrorKind::ResourceDoesNotExist,
            message: format!("resource does not exist: {identifier} with error: {inner}"),
            identifier: Some(identifier),
            inner: Some(inner),
        }
    }

    /// `ErrorResourceAlreadyExists` for an occupied address.
    pub fn already_assigned(ip: impl Into<String>) -> IpamError {
        let identifier = ip.into();
        let inner = "Address already assigned in block".to_owned();
        IpamError {
            kind: IpamErrorKind::ResourceAlreadyExists,
            message: format!("resource already exists: {identifier} with error: {inner}"),
            identifier: Some(identifier),
            inner: Some(inner),
        }
    }

    /// `ErrorResourceUpdateConflict` wrapping a bad handle or sequence number.
    pub fn update_conflict(identifier: impl Into<String>, inner: impl Into<String>) -> IpamError {
        let identifier = identifier.into();
        let inner = inner.into();
        IpamError {
            kind: IpamErrorKind::UpdateConflict,
            message: inner.clone(),
            identifier: Some(identifier),
            inner: Some(inner),
        }
    }

    /// Whether this error matches a Calico sentinel by name (`ErrBlockLimit`, ...), as `errors.Is`
    /// would.
    pub fn is_sentinel(&self, name: &str) -> bool {
        matches!(
            (name, self.kind),
            ("ErrNoQualifiedPool", IpamErrorKind::NoQualifiedPool)
                | ("ErrBlockLimit", IpamErrorKind::BlockLimit)
                | ("ErrStrictAffinity", IpamErrorKind::StrictAffinity)
                | ("ErrUseRequired", IpamErrorKind::UseRequired)
        )
    }
}

impl fmt::Display for IpamError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for IpamError {}
