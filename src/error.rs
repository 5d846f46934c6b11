//! The crate's one error type. Each variant maps to one C status code in `ffi`; messages say
//! what went wrong and what to do, and never carry a secret.

/// Everything that can go wrong.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An argument was NULL, not UTF-8, malformed JSON or out of range.
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    /// The configuration is incomplete or inconsistent.
    #[error("configuration error: {0}")]
    Config(String),
    /// Login with Amazon refused the credentials, or Amazon refused the token.
    #[error("authentication failed: {0}")]
    Auth(String),
    /// Amazon kept answering 429 after every retry.
    #[error("throttled by Amazon: {0}")]
    Throttled(String),
    /// Amazon could not be reached, or the answer was cut off or unreadable, after every retry.
    #[error("network error: {0}")]
    Network(String),
    /// Amazon answered with an error.
    #[error("Amazon answered {status} {code}: {message}")]
    Amazon {
        /// HTTP status.
        status: u16,
        /// Amazon's error code (e.g. `InvalidInput`).
        code: String,
        /// Amazon's message.
        message: String,
    },
    /// The local store failed.
    #[error("store error: {0}")]
    Store(String),
    /// No such order or item.
    #[error("not found: {0}")]
    NotFound(String),
    /// The call contradicts what was recorded before.
    #[error("conflict: {0}")]
    Conflict(String),
    /// The call did not finish in time.
    #[error("timed out: {0}")]
    Timeout(String),
    /// The handle was closed.
    #[error("the handle is closed")]
    Closed,
    /// The call is not allowed now (e.g. from a library thread, or before start).
    #[error("invalid state: {0}")]
    InvalidState(String),
    /// The handle was opened in another process: a forked child must open its own.
    #[error("the handle was opened in another process (fork); open a new handle in this process")]
    Forked,
    /// A bug: please report it.
    #[error("internal error: {0}")]
    Internal(String),
}

/// The crate's result type.
pub type Result<T> = std::result::Result<T, Error>;

impl From<rusqlite::Error> for Error {
    fn from(e: rusqlite::Error) -> Self {
        Error::Store(e.to_string())
    }
}

impl From<serde_json::Error> for Error {
    fn from(e: serde_json::Error) -> Self {
        Error::Internal(format!("JSON: {e}"))
    }
}
