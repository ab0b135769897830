//! The one error type of distributed loading.

use std::fmt;

/// What went wrong.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// A bad `--cluster` address.
    Usage,
    /// The data is bad: a malformed value, a missing column, a table that is
    /// not Parquet. The message names the file, and the row, column and
    /// value when there is one.
    BadInput,
    /// The cluster failed or could not be reached.
    Cluster,
}

/// An error of distributed loading.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error {
    kind: ErrorKind,
    message: String,
}

impl Error {
    pub(crate) fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error {
            kind,
            message: message.into(),
        }
    }

    /// The kind of problem.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// Whether the input data is at fault (exit status 2 in the CLI).
    pub fn is_bad_input(&self) -> bool {
        matches!(self.kind, ErrorKind::BadInput | ErrorKind::Usage)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

impl From<datafusion::error::DataFusionError> for Error {
    fn from(e: datafusion::error::DataFusionError) -> Self {
        Error::new(ErrorKind::Cluster, format!("the cluster query failed: {e}"))
    }
}
