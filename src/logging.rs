//! The host-visible log of one handle. The library writes `tracing` events; each handle has
//! its own `tracing` dispatcher (never a global one: the host's process may have its own),
//! made the default on the handle's runtime threads, its event thread and, for the duration of
//! each call, the host's calling thread. It hands the library's own lines (no dependency's) at
//! or above the chosen level to the host's function, with secrets removed. Silent by default.

use crate::error::{Error, Result};
use std::cell::Cell;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, RwLock};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::subscriber::Interest;
use tracing::{Dispatch, Level, Metadata};

/// Levels as the host names them.
pub const ERROR: u8 = 1;
pub const WARN: u8 = 2;
pub const INFO: u8 = 3;
pub const DEBUG: u8 = 4;

/// The host's function: (level, line).
pub type LogFn = Box<dyn Fn(u8, &str) + Send + Sync>;

thread_local! {
    /// Set while this thread runs the host's log function. (Clippy for Windows targets asks
    /// for the `const` initializer it has.)
    #[allow(clippy::missing_const_for_thread_local)]
    static IN_LOG: Cell<bool> = const { Cell::new(false) };
    /// How many exports the calling thread is inside (see `InExport`).
    #[allow(clippy::missing_const_for_thread_local)]
    static IN_EXPORT: Cell<u32> = const { Cell::new(0) };
}

/// Marks the calling thread as inside one of the library's exports while it lives.
pub struct InExport(());

impl InExport {
    /// (Installs the panic hook first, so a panic in an export without a handle, such as
    /// `sellsync_open`, is not printed either.)
    pub fn enter() -> InExport {
        install_panic_hook();
        IN_EXPORT.with(|c| c.set(c.get() + 1));
        InExport(())
    }
}

impl Drop for InExport {
    fn drop(&mut self) {
        IN_EXPORT.with(|c| c.set(c.get().saturating_sub(1)));
    }
}

/// Installs, once per process, the panic hook of a library loaded into someone else's process:
/// a panic raised on one of the library's threads or inside one of its calls (the library
/// catches it and answers an internal error) reaches the handle's log function at ERROR, with
/// secrets removed, and is never printed (inside an export without a handle, such as
/// `sellsync_open`, it goes nowhere: the status and last error say it); any other panic (the
/// host's own) goes to the hook that was there before. A host that wants to see every panic installs its own hook after
/// this one and calls this one from it.
pub fn install_panic_hook() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let ours = tracing::dispatcher::get_default(|d| d.is::<HandleSubscriber>());
            if !ours {
                // Without a handle's dispatcher the line could only reach the host's own
                // (unredacted).
                if IN_EXPORT.with(Cell::get) == 0 {
                    previous(info);
                }
                return;
            }
            let what = info
                .payload()
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| info.payload().downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "a panic".into());
            let at = info
                .location()
                .map(|l| format!(" at {}:{}", l.file(), l.line()))
                .unwrap_or_default();
            tracing::error!("internal error (please report it): {what}{at}");
        }));
    });
}

/// Whether the calling thread is inside a host's log function.
pub fn in_log_callback() -> bool {
    IN_LOG.with(Cell::get)
}

/// Where one handle's lines go.
#[derive(Default)]
pub struct LogSink {
    /// The most verbose level passed on; 0: none.
    level: AtomicU8,
    host: RwLock<Option<LogFn>>,
    /// Texts never to pass on (the client secrets and refresh tokens configured or set since).
    secrets: RwLock<Vec<String>>,
}

impl std::fmt::Debug for LogSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LogSink")
            .field("level", &self.level.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

impl LogSink {
    /// A silent sink that will remove `secrets` from every line.
    pub fn new(secrets: Vec<String>) -> LogSink {
        LogSink {
            level: AtomicU8::new(0),
            host: RwLock::new(None),
            secrets: RwLock::new(secrets.into_iter().filter(|s| s.len() >= 4).collect()),
        }
    }

    /// Removes `secrets` too from every line from now on (credentials set while open).
    pub fn add_secrets(&self, secrets: impl IntoIterator<Item = String>) {
        let mut known = self.secrets.write().unwrap_or_else(|p| p.into_inner());
        for s in secrets {
            if s.len() >= 4 && !known.contains(&s) {
                known.push(s);
            }
        }
    }

    /// Sets (or with None removes) the host's function and the most verbose level it gets.
    /// The function replaced is dropped here, once no thread runs it any more.
    pub fn set(&self, level: u8, f: Option<LogFn>) -> Result<()> {
        if in_log_callback() {
            return Err(Error::InvalidState(
                "the log callback cannot be replaced from inside the log callback".into(),
            ));
        }
        if f.is_some() && !(ERROR..=DEBUG).contains(&level) {
            return Err(Error::InvalidArgument(format!(
                "level must be 1 (ERROR) to 4 (DEBUG), not {level}"
            )));
        }
        let old = {
            let mut host = self.host.write().unwrap_or_else(|p| p.into_inner());
            self.level
                .store(if f.is_some() { level } else { 0 }, Ordering::SeqCst);
            std::mem::replace(&mut *host, f)
        };
        drop(old);
        Ok(())
    }

    fn level(&self) -> u8 {
        self.level.load(Ordering::Relaxed)
    }

    /// Passes one line on (not from inside the host's function itself).
    fn emit(&self, level: u8, line: &str) {
        if level > self.level() || in_log_callback() {
            return;
        }
        let host = self.host.read().unwrap_or_else(|p| p.into_inner());
        if let Some(f) = host.as_ref() {
            let line = self.redact(line);
            IN_LOG.with(|c| c.set(true));
            // The host's function must not unwind into the library's threads.
            let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(level, &line)));
            IN_LOG.with(|c| c.set(false));
        }
    }

    /// Removes the configured secrets and anything shaped like an LWA token.
    fn redact(&self, line: &str) -> String {
        let mut out = line.to_string();
        let secrets = self.secrets.read().unwrap_or_else(|p| p.into_inner());
        for s in secrets.iter() {
            if out.contains(s.as_str()) {
                out = out.replace(s.as_str(), "[redacted]");
            }
        }
        for prefix in ["Atza|", "Atzr|"] {
            while let Some(i) = out.find(prefix) {
                let end = out[i..]
                    .find(|c: char| c.is_whitespace() || matches!(c, '"' | '\'' | ',' | ')'))
                    .map_or(out.len(), |n| i + n);
                out.replace_range(i..end, "[redacted]");
            }
        }
        out
    }
}

/// A `tracing` dispatcher feeding `sink`.
pub fn dispatch(sink: Arc<LogSink>) -> Dispatch {
    Dispatch::new(HandleSubscriber { sink })
}

struct HandleSubscriber {
    sink: Arc<LogSink>,
}

fn ours(m: &Metadata<'_>) -> bool {
    m.target() == "sellsync" || m.target().starts_with("sellsync::")
}

fn level_number(l: &Level) -> u8 {
    match *l {
        Level::ERROR => ERROR,
        Level::WARN => WARN,
        Level::INFO => INFO,
        Level::DEBUG => DEBUG,
        Level::TRACE => DEBUG + 1,
    }
}

impl tracing::Subscriber for HandleSubscriber {
    fn register_callsite(&self, m: &'static Metadata<'static>) -> Interest {
        if ours(m) && m.is_event() {
            Interest::sometimes()
        } else {
            Interest::never()
        }
    }

    fn enabled(&self, m: &Metadata<'_>) -> bool {
        ours(m) && m.is_event() && level_number(m.level()) <= self.sink.level()
    }

    fn max_level_hint(&self) -> Option<tracing::level_filters::LevelFilter> {
        Some(tracing::level_filters::LevelFilter::DEBUG)
    }

    fn new_span(&self, _: &Attributes<'_>) -> Id {
        Id::from_u64(1)
    }

    fn record(&self, _: &Id, _: &Record<'_>) {}

    fn record_follows_from(&self, _: &Id, _: &Id) {}

    fn event(&self, e: &tracing::Event<'_>) {
        let mut text = Text::default();
        e.record(&mut text);
        if !text.fields.is_empty() {
            text.message.push_str(&text.fields);
        }
        self.sink
            .emit(level_number(e.metadata().level()), &text.message);
    }

    fn enter(&self, _: &Id) {}

    fn exit(&self, _: &Id) {}
}

/// One line: the message, then ` name=value` per other field.
#[derive(Default)]
struct Text {
    message: String,
    fields: String,
}

impl Visit for Text {
    fn record_str(&mut self, f: &Field, v: &str) {
        if f.name() == "message" {
            self.message.push_str(v);
        } else {
            let _ = write!(self.fields, " {}={v}", f.name());
        }
    }

    fn record_debug(&mut self, f: &Field, v: &dyn std::fmt::Debug) {
        if f.name() == "message" {
            let _ = write!(self.message, "{v:?}");
        } else {
            let _ = write!(self.fields, " {}={v:?}", f.name());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    #[test]
    fn lines_reach_the_host_at_its_level_without_secrets() {
        let sink = Arc::new(LogSink::new(vec!["s3cret-value".into()]));
        let got: Arc<Mutex<Vec<(u8, String)>>> = Arc::default();
        let g = got.clone();
        sink.set(
            INFO,
            Some(Box::new(move |l, s| g.lock().unwrap().push((l, s.into())))),
        )
        .unwrap();
        tracing::dispatcher::with_default(&dispatch(sink.clone()), || {
            tracing::info!(op = "x", "token Atza|abc123 and s3cret-value");
            tracing::debug!("too verbose");
            tracing::error!("bad");
        });
        let got = got.lock().unwrap().clone();
        assert_eq!(
            got,
            vec![
                (INFO, "token [redacted] and [redacted] op=x".to_string()),
                (ERROR, "bad".to_string())
            ]
        );
        assert!(matches!(
            sink.set(9, Some(Box::new(|_, _| {}))),
            Err(Error::InvalidArgument(_))
        ));
    }
}
