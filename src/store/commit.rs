//! Group commit: changes that host threads make at the same time share one transaction and one
//! fsync, while each call still returns only once its own change is durable (or has failed on
//! its own, without touching the others).
//!
//! A caller queues its change and, if no other caller is committing, commits the queue itself
//! (the leader); otherwise it waits for the leader to hand back its result. The leader applies
//! each change inside its own savepoint, so one change that fails is rolled back alone.

use super::db::{Conn, Tx};
use super::Store;
use crate::error::{Error, Result};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::{Mutex, MutexGuard};

/// How durable a change must be when its call returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    /// Survives a power cut (`synchronous=FULL`: the WAL is synced at every commit).
    Full,
    /// Survives a crash of the process, but the last changes may be lost on a power cut
    /// (`synchronous=NORMAL` in WAL mode).
    Process,
}

/// Sends a change's result to its caller once the commit's outcome (an error, if it failed) is
/// known.
type Finish = Box<dyn FnOnce(Option<&str>) + Send>;
/// A queued change: applies itself in the transaction (or learns that none could be begun),
/// and tells whether it succeeded and how to finish.
type Job = Box<dyn FnOnce(std::result::Result<&Tx<'_>, &str>) -> (bool, Finish) + Send>;

/// The queue of changes waiting for a commit.
#[derive(Default)]
pub(super) struct Queue {
    state: Mutex<QueueState>,
    /// The connection was left at `synchronous=NORMAL` by the last batch (only changed under
    /// the connection's lock).
    pub(super) relaxed: AtomicBool,
}

#[derive(Default)]
struct QueueState {
    jobs: Vec<(Durability, Job)>,
    leading: bool,
}

impl Queue {
    fn lock(&self) -> MutexGuard<'_, QueueState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl std::fmt::Debug for Queue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Queue").finish_non_exhaustive()
    }
}

/// Gives up the leader's role if the leader unwinds, so no caller is stranded (a leader that
/// finds the queue empty resigns itself, under the queue's lock).
struct Resign<'a>(&'a Queue);

impl Drop for Resign<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.0.lock().leading = false;
        }
    }
}

impl Store {
    /// Applies `change` in a transaction shared with the changes other threads make at the same
    /// time, and returns once it is committed with at least `durability` (or failed alone).
    pub(super) fn write<T, F>(&self, durability: Durability, change: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Tx<'_>) -> Result<T> + Send + 'static,
    {
        let (sender, receiver) = mpsc::sync_channel::<Result<T>>(1);
        let job: Job = Box::new(move |tx| {
            let outcome = match tx {
                Ok(tx) => catch_unwind(AssertUnwindSafe(|| change(tx)))
                    .unwrap_or_else(|_| Err(Error::Internal("a store change panicked".into()))),
                Err(e) => Err(Error::Store(format!("cannot begin a transaction: {e}"))),
            };
            let ok = outcome.is_ok();
            let finish: Finish = Box::new(move |commit_error| {
                let result = match (outcome, commit_error) {
                    (Ok(_), Some(e)) => Err(Error::Store(format!("cannot commit: {e}"))),
                    (outcome, _) => outcome,
                };
                let _ = sender.send(result);
            });
            (ok, finish)
        });
        let lead = {
            let mut q = self.queue.lock();
            q.jobs.push((durability, job));
            !std::mem::replace(&mut q.leading, true)
        };
        if lead {
            self.lead();
        }
        receiver
            .recv()
            .unwrap_or_else(|_| Err(Error::Internal("a store change was lost".into())))
    }

    /// Commits batches from the queue until it is empty, then resigns.
    fn lead(&self) {
        let _resign = Resign(&self.queue);
        loop {
            let mut conn = self.conn.lock().unwrap_or_else(|p| p.into_inner());
            let jobs = {
                let mut q = self.queue.lock();
                if q.jobs.is_empty() {
                    // Resigning under the queue's lock: a change queued after this finds no
                    // leader and leads itself.
                    q.leading = false;
                    return;
                }
                std::mem::take(&mut q.jobs)
            };
            commit_batch(&mut conn, &self.queue.relaxed, jobs);
        }
    }
}

/// Applies `jobs` in one transaction (each in its own savepoint when there are several, so a
/// failed one is rolled back alone) and finishes each with the commit's outcome, at
/// `synchronous=NORMAL` when every job allows it (left so for the next batch; `relaxed` says
/// so) and `FULL` otherwise.
fn commit_batch(conn: &mut Conn, relaxed: &AtomicBool, jobs: Vec<(Durability, Job)>) {
    let relax = jobs.iter().all(|(d, _)| *d == Durability::Process);
    if let Some(sqlite) = conn
        .sqlite()
        .filter(|_| relax != relaxed.load(Ordering::Relaxed))
    {
        let mode = if relax { "NORMAL" } else { "FULL" };
        if let Err(e) = sqlite.pragma_update(None, "synchronous", mode) {
            return fail_all(jobs, &e.to_string());
        }
        relaxed.store(relax, Ordering::Relaxed);
    }
    run_batch(conn, jobs, relax);
}

/// Finishes `jobs` without running them.
fn fail_all(jobs: impl IntoIterator<Item = (Durability, Job)>, error: &str) {
    for (_, job) in jobs {
        job(Err(error)).1(None);
    }
}

fn run_batch(conn: &mut Conn, jobs: Vec<(Durability, Job)>, relax: bool) {
    // The host's own changes: no lease guards them.
    let tx = match conn.transaction_unfenced() {
        Ok(tx) => tx,
        Err(e) => return fail_all(jobs, &e.to_string()),
    };
    // On PostgreSQL a process-durable batch does not wait for the server's WAL flush: the
    // server has it once committed, whatever happens to this process.
    if relax && tx.is_pg() {
        if let Err(e) = tx.execute_batch("SET LOCAL synchronous_commit TO OFF") {
            drop(tx);
            return fail_all(jobs, &e.to_string());
        }
    }
    let alone = jobs.len() == 1;
    let mut finishes: Vec<Finish> = Vec::with_capacity(jobs.len());
    let mut any_ok = false;
    let mut jobs = jobs.into_iter();
    while let Some((_, job)) = jobs.next() {
        if alone {
            let (ok, finish) = job(Ok(&tx));
            any_ok = ok;
            finishes.push(finish);
            continue;
        }
        if let Err(e) = tx.execute_batch("SAVEPOINT job") {
            finishes.push(job(Err(&e.to_string())).1);
            continue;
        }
        let (ok, finish) = job(Ok(&tx));
        any_ok |= ok;
        finishes.push(finish);
        let end = if ok {
            "RELEASE job"
        } else {
            "ROLLBACK TO job; RELEASE job"
        };
        if let Err(e) = tx.execute_batch(end) {
            // The transaction is in an unknown state: nothing of it is kept.
            let e = e.to_string();
            drop(tx);
            for finish in finishes {
                finish(Some(&e));
            }
            return fail_all(jobs, &e);
        }
    }
    // When every change failed, the transaction is rolled back without a sync.
    let error = if any_ok {
        tx.commit().err().map(|e| e.to_string())
    } else {
        None
    };
    for finish in finishes {
        finish(error.as_deref());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open_for_test(dir.path().join("s.sqlite").to_str().unwrap()).unwrap();
        store
            .conn()
            .execute_batch("CREATE TABLE t(k INTEGER PRIMARY KEY)")
            .unwrap();
        (dir, store)
    }

    fn keys(store: &Store) -> Vec<i64> {
        let conn = store.conn();
        let mut stmt = conn.prepare("SELECT k FROM t ORDER BY k").unwrap();
        let rows = stmt.query_map([], |r| r.get(0)).unwrap();
        rows.collect::<rusqlite::Result<_>>().unwrap()
    }

    /// Changes queued while the connection is busy are committed together; the one that fails
    /// (and the one that panics) is rolled back alone and told so; the others are kept.
    #[test]
    fn changes_made_at_once_share_a_commit_and_fail_alone() {
        let (_dir, store) = store();
        let store = std::sync::Arc::new(store);
        let busy = store.conn.lock().unwrap();
        let callers: Vec<_> = (0..6_i64)
            .map(|k| {
                let store = store.clone();
                std::thread::spawn(move || {
                    store.write(Durability::Full, move |tx| {
                        tx.execute("INSERT INTO t(k) VALUES (?1)", [k])?;
                        match k {
                            2 => Err(Error::Conflict("two is refused".into())),
                            4 => panic!("four panics"),
                            _ => Ok(k * 10),
                        }
                    })
                })
            })
            .collect();
        // One caller leads and waits for the connection; the other five queue behind it.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while store.queue.lock().jobs.len() < 5 {
            assert!(
                std::time::Instant::now() < deadline,
                "the callers never queued"
            );
            std::thread::yield_now();
        }
        drop(busy);
        let results: Vec<Result<i64>> = callers.into_iter().map(|c| c.join().unwrap()).collect();
        for (k, r) in results.iter().enumerate() {
            match k {
                2 => assert!(matches!(r, Err(Error::Conflict(_))), "{r:?}"),
                4 => assert!(matches!(r, Err(Error::Internal(_))), "{r:?}"),
                _ => assert_eq!(r.as_ref().unwrap(), &(k as i64 * 10)),
            }
        }
        assert_eq!(keys(&store), vec![0, 1, 3, 5]);
        // The queue has no leader left behind: the next change commits at once.
        store
            .write(Durability::Full, |tx| {
                Ok(tx.execute("INSERT INTO t(k) VALUES (9)", [])?)
            })
            .unwrap();
        assert_eq!(keys(&store), vec![0, 1, 3, 5, 9]);
    }

    /// A change allowed to be process-durable is committed at `synchronous=NORMAL`, and every
    /// other write finds the connection back at `FULL`.
    #[test]
    fn only_process_durable_changes_skip_the_sync() {
        if crate::store::testing::on_postgres() {
            return; // SQLite's pragma; PostgreSQL's commits are the server's.
        }
        let (_dir, store) = store();
        let mode = |store: &Store| -> i64 {
            store
                .conn
                .lock()
                .unwrap()
                .query_row("PRAGMA synchronous", [], |r| r.get(0))
                .unwrap()
        };
        store
            .write(Durability::Process, |tx| {
                Ok(tx.execute("INSERT INTO t(k) VALUES (1)", [])?)
            })
            .unwrap();
        assert_eq!(mode(&store), 1, "NORMAL after a process-durable change");
        assert_eq!(
            store
                .conn()
                .query_row("PRAGMA synchronous", [], |r| r.get::<_, i64>(0))
                .unwrap(),
            2,
            "FULL for every other write"
        );
        store
            .write(Durability::Process, |tx| {
                Ok(tx.execute("INSERT INTO t(k) VALUES (2)", [])?)
            })
            .unwrap();
        store
            .write(Durability::Full, |tx| {
                Ok(tx.execute("INSERT INTO t(k) VALUES (3)", [])?)
            })
            .unwrap();
        assert_eq!(mode(&store), 2, "FULL after a fully durable change");
        assert_eq!(keys(&store), vec![1, 2, 3]);
    }
}
