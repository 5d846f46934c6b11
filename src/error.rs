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
    /// Login with Amazon refused the credentials themselves (the client secret, the refresh
    /// token or the client id): nothing reaches Amazon until the host gives new ones
    /// (`sellsync_set_credentials`). Its status is `AUTH` too.
    #[error("authentication failed: {0}")]
    Credentials(String),
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
        let text = e.to_string();
        if text.ends_with(crate::store::pg::LEASE_LOST) {
            return Error::InvalidState(crate::store::pg::LEASE_LOST.into());
        }
        Error::Store(text)
    }
}

impl From<serde_json::Error> for Error {
    fn from(e: serde_json::Error) -> Self {
        Error::Internal(format!("JSON: {e}"))
    }
}

/// Longest piece of an input quoted in an error message, in characters.
pub const QUOTE_CHARS: usize = 64;

/// Quotes an input (an id, a SKU, a value) for an error message: in double quotes with
/// escapes, cut to its first [`QUOTE_CHARS`] characters and "…" when longer, so a message never
/// echoes a whole input however long it is.
pub fn quote(input: &str) -> String {
    match input.char_indices().nth(QUOTE_CHARS) {
        None => format!("{input:?}"),
        Some((cut, _)) => {
            let q = format!("{:?}", &input[..cut]);
            format!("{}…\"", &q[..q.len() - 1])
        }
    }
}

/// Longest message made from a parser's text (whatever the parser quoted, and however).
pub const PARSER_TEXT_CHARS: usize = 400;

/// A parser's message with every piece it quoted (between double quotes or backticks) cut as
/// [`quote`] does, and the whole cut to [`PARSER_TEXT_CHARS`], so an error about a huge input
/// stays short.
pub fn clip_quoted(message: &str) -> String {
    let mut out = String::with_capacity(message.len().min(PARSER_TEXT_CHARS + 8));
    let mut open: Option<char> = None;
    let mut inside = 0usize;
    let mut escaped = false;
    for c in message.chars() {
        match open {
            None => {
                if c == '"' || c == '`' {
                    open = Some(c);
                    inside = 0;
                    escaped = false;
                }
                out.push(c);
            }
            Some(q) => {
                let closes = c == q && !escaped;
                escaped = q == '"' && c == '\\' && !escaped;
                if closes {
                    if inside > QUOTE_CHARS {
                        out.push('…');
                    }
                    open = None;
                    out.push(c);
                } else {
                    inside += 1;
                    if inside <= QUOTE_CHARS {
                        out.push(c);
                    }
                }
            }
        }
    }
    if open.is_some() && inside > QUOTE_CHARS {
        out.push('…');
    }
    match out.char_indices().nth(PARSER_TEXT_CHARS) {
        Some((cut, _)) => format!("{}…", &out[..cut]),
        None => out,
    }
}

/// The error for a JSON argument that could not be parsed, naming the argument.
pub fn invalid_json(name: &str, e: &serde_json::Error) -> Error {
    Error::InvalidArgument(format!(
        "{name} is not valid: {}",
        clip_quoted(&e.to_string())
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_are_cut_to_a_short_prefix() {
        assert_eq!(quote("MUG-1"), "\"MUG-1\"");
        assert_eq!(quote("a\"b"), "\"a\\\"b\"");
        let long = "é".repeat(10_000);
        let q = quote(&long);
        assert_eq!(q, format!("\"{}…\"", "é".repeat(QUOTE_CHARS)));
        assert_eq!(quote(&"x".repeat(QUOTE_CHARS)).len(), QUOTE_CHARS + 2);
    }

    #[test]
    fn parser_messages_are_cut_piece_by_piece_and_as_a_whole() {
        let long = "k".repeat(100_000);
        let m = clip_quoted(&format!("unknown field `{long}`, expected `a` or `b`"));
        assert_eq!(
            m,
            format!(
                "unknown field `{}…`, expected `a` or `b`",
                "k".repeat(QUOTE_CHARS)
            )
        );
        let m = clip_quoted(&format!(
            "invalid type: string \"a\\\"{long}\", expected u32"
        ));
        assert!(m.ends_with("…\", expected u32"), "{m}");
        assert!(m.starts_with("invalid type: string \"a\\\"kkk"), "{m}");
        // Quotes that do not pair up still give a short message.
        let m = clip_quoted(&format!("a`b{long}` `c{long}"));
        assert!(m.chars().count() <= PARSER_TEXT_CHARS + 1, "{}", m.len());
        let m = clip_quoted(&format!("plain {long}"));
        assert_eq!(m.chars().count(), PARSER_TEXT_CHARS + 1);
    }
}
