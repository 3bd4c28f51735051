//! Errors of the storage crate.

use thiserror::Error;

/// Everything that can go wrong in [`crate::Commitment`], [`crate::StateStore`] and
/// [`crate::Index`].
#[derive(Debug, Error)]
pub enum StorageError {
    /// An error from QMDB (the authenticated state database).
    #[error("qmdb: {0}")]
    Qmdb(String),
    /// A QMDB call failed earlier and consumed the database handle; reopen it with
    /// [`crate::Commitment::init`] (everything committed before the failure is on disk).
    #[error("the authenticated state database failed earlier and must be reopened")]
    Closed,
    /// The speculative batch was built on a state the database has left (a sibling or another
    /// branch was committed), or one of its unapplied ancestors was dropped.
    #[error("speculative state is stale: {0}")]
    Stale(String),
    /// A height does not follow the committed or parent height.
    #[error("height {got} does not follow {expected}")]
    Height {
        /// The height the caller passed.
        got: u64,
        /// The height that was expected.
        expected: String,
    },
    /// A state value is larger than [`crate::MAX_VALUE_BYTES`].
    #[error("state value of {0} bytes exceeds the limit of {max} bytes", max = crate::MAX_VALUE_BYTES)]
    ValueTooLarge(usize),
    /// Stored bytes do not decode: the database is corrupt or from another version.
    #[error("corrupt stored data: {0}")]
    Corrupt(String),
    /// A log query matched more than the allowed number of logs.
    #[error("query matches more than {0} logs")]
    TooManyResults(usize),
    /// A record is larger than its table allows (e.g. an alert above
    /// [`crate::MAX_ALERT_BYTES`]).
    #[error("record of {size} bytes exceeds the limit of {limit} bytes")]
    RecordTooLarge {
        /// Its size.
        size: usize,
        /// The table's limit.
        limit: usize,
    },
    /// An error from redb (the state copy and the RPC index).
    #[error("redb: {0}")]
    Redb(#[from] redb::Error),
}

macro_rules! from_redb {
    ($($t:ty),*) => {$(
        impl From<$t> for StorageError {
            fn from(e: $t) -> Self {
                Self::Redb(e.into())
            }
        }
    )*};
}

from_redb!(
    redb::DatabaseError,
    redb::TransactionError,
    redb::TableError,
    redb::StorageError,
    redb::CommitError,
    redb::SetDurabilityError
);

impl<F: commonware_storage::merkle::Family> From<commonware_storage::qmdb::Error<F>>
    for StorageError
{
    fn from(e: commonware_storage::qmdb::Error<F>) -> Self {
        match e {
            commonware_storage::qmdb::Error::StaleBatch
            | commonware_storage::qmdb::Error::StaleRead => Self::Stale(e.to_string()),
            other => Self::Qmdb(other.to_string()),
        }
    }
}

/// Result with [`StorageError`].
pub type Result<T, E = StorageError> = std::result::Result<T, E>;
