//! Two long-lived lanes that read the snapshots in turn, each freeing the
//! snapshots it read: how the server's memory stays flat across uploads.
//!
//! A snapshot is millions of small allocations (aggregates, ids, hash
//! tables). The allocator (mimalloc) gives each thread its own pages, and a
//! block freed by another thread goes back to its page only when the
//! owning thread next works in that heap. Read on whatever threads were
//! free (rayon's global pool, shared with requests) and freed on yet
//! another, the snapshots' pages ended up shared between generations and
//! parked threads: resident memory climbed upload after upload (24 % over
//! 20 uploads at 20,000 partners) although the live heap did not grow
//! (heaptrack: the same bytes live after 3 and after 12 uploads). See
//! bench/README.md, "pcs serve: memory and soak".
//!
//! Here generation `g` is read on lane `g % 2`, and when it is replaced it
//! is freed on that same lane. A lane is one thread with a rayon pool of
//! its own (that one thread): the reads' parallel loops run there too, so
//! every allocation and every free of a generation is made on its lane's
//! thread. When lane `g % 2` reads generation `g + 2`, generation `g` is
//! gone: the lane's pages hold nothing of the live snapshot (`g + 1` lives
//! on the other lane), and every page the freed one occupied is empty and
//! returned. Two lanes on plain threads, with the reads' loops still on the
//! global pool, changed nothing (measured); confining the loops is what
//! made the difference. The price: an upload is read on one core.
//!
//! The reads are run one at a time by the upload lock; a lane
//! runs its jobs in order, so a release queued before the next read of the
//! same lane is done before that read starts.

use std::sync::mpsc;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

/// A job for a lane.
type Job = Box<dyn FnOnce() + Send>;

/// The two lanes (spawned on first use).
#[derive(Default)]
pub(crate) struct Lanes {
    lanes: [OnceLock<Option<mpsc::Sender<Job>>>; 2],
}

/// How long a lane waits for the requests still reading a replaced
/// snapshot before it lets the last of them free it instead (the next
/// read of that lane waits meanwhile).
const RELEASE_WAIT: Duration = Duration::from_secs(60);

impl Lanes {
    /// The sender of lane `generation % 2`, its thread started on first use
    /// (`None` when the thread cannot be started).
    fn lane(&self, generation: u64) -> Option<&mpsc::Sender<Job>> {
        let i = (generation % 2) as usize;
        self.lanes[i]
            .get_or_init(|| {
                let (tx, rx) = mpsc::channel::<Job>();
                // One rayon thread of its own: the reads' parallel loops
                // run there too, so every allocation of a generation, and
                // every free, is made on this lane's thread.
                let pool = rayon::ThreadPoolBuilder::new()
                    .num_threads(1)
                    .thread_name(move |_| format!("pcs-data-{i}"))
                    .build();
                let pool = match pool {
                    Ok(p) => p,
                    Err(e) => {
                        eprintln!("pcs serve: cannot start a data thread ({e}); reading on request threads");
                        return None;
                    }
                };
                let spawned = std::thread::Builder::new()
                    .name(format!("pcs-lane-{i}"))
                    .spawn(move || {
                        // A job that panics loses its answer (its sender is
                        // dropped), not the lane.
                        for job in rx {
                            pool.install(|| {
                                let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job));
                            });
                        }
                    });
                match spawned {
                    Ok(_) => Some(tx),
                    Err(e) => {
                        eprintln!(
                            "pcs serve: cannot start a data thread ({e}); reading on request threads"
                        );
                        None
                    }
                }
            })
            .as_ref()
    }

    /// Sends `job` to the lane of `generation`; gives it back when the lane
    /// has no thread.
    fn submit(&self, generation: u64, job: Job) -> Result<(), Job> {
        match self.lane(generation) {
            Some(tx) => tx.send(job).map_err(|e| e.0),
            None => Err(job),
        }
    }

    /// Runs `f` (a read of generation `generation`, or anything whose
    /// memory belongs to it) on its lane and waits for it, blocking this
    /// thread. Runs it here when the lane has no thread. `None` when it
    /// panicked on the lane.
    pub(crate) fn run_blocking<T: Send + 'static>(
        &self,
        generation: u64,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> Option<T> {
        let (tx, rx) = mpsc::sync_channel(1);
        let job: Job = Box::new(move || {
            let _ = tx.send(f());
        });
        if let Err(job) = self.submit(generation, job) {
            job();
        }
        rx.recv().ok()
    }

    /// As [`Lanes::run_blocking`], awaiting instead of blocking. `None` when
    /// the job panicked.
    pub(crate) async fn run<T: Send + 'static>(
        &self,
        generation: u64,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> Option<T> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move || {
            let _ = tx.send(f());
        });
        match self.submit(generation, job) {
            Ok(()) => rx.await.ok(),
            Err(job) => tokio::task::spawn_blocking(job)
                .await
                .ok()
                .and(rx.await.ok()),
        }
    }

    /// Frees `old`, the snapshot of generation `generation`, on that
    /// generation's lane once no request reads it any more (checked every
    /// 20 ms for at most [`RELEASE_WAIT`]; after that the last reader frees
    /// it, as it would anywhere). Without a lane, on a thread of its own.
    pub(crate) fn release<T: Send + Sync + 'static>(&self, generation: u64, old: Arc<T>) {
        let job: Job = Box::new(move || free_when_unused(old));
        if let Err(job) = self.submit(generation, job) {
            let spawned = std::thread::Builder::new()
                .name("pcs-release".into())
                .spawn(job);
            if let Err(e) = spawned {
                eprintln!("pcs serve: cannot start the thread that frees the replaced data ({e})");
            }
        }
    }
}

/// Drops `old` once this is its last reference (see [`Lanes::release`]).
fn free_when_unused<T>(old: Arc<T>) {
    let mut old = old;
    let step = Duration::from_millis(20);
    for _ in 0..(RELEASE_WAIT.as_millis() / step.as_millis()) {
        match Arc::try_unwrap(old) {
            Ok(snapshot) => {
                drop(snapshot);
                return;
            }
            Err(still_used) => {
                old = still_used;
                std::thread::sleep(step);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn thread_name() -> String {
        std::thread::current().name().unwrap_or("").to_string()
    }

    #[test]
    fn generations_alternate_between_two_lanes() {
        let lanes = Lanes::default();
        let names: Vec<String> = (1..=4)
            .map(|g| lanes.run_blocking(g, thread_name).unwrap())
            .collect();
        assert_eq!(
            names,
            ["pcs-data-1", "pcs-data-0", "pcs-data-1", "pcs-data-0"]
        );
    }

    #[test]
    fn a_reads_parallel_loops_run_on_its_lane_thread() {
        use rayon::prelude::*;
        let lanes = Lanes::default();
        let names: std::collections::BTreeSet<String> = lanes
            .run_blocking(3, || {
                (0..64).into_par_iter().map(|_| thread_name()).collect()
            })
            .unwrap();
        assert_eq!(names.into_iter().collect::<Vec<_>>(), ["pcs-data-1"]);
        // And the other lane's loops on the other lane's thread.
        let other: Vec<String> = lanes
            .run_blocking(4, || {
                (0..64).into_par_iter().map(|_| thread_name()).collect()
            })
            .unwrap();
        assert!(other.iter().all(|n| n == "pcs-data-0"));
    }

    #[test]
    fn a_panicking_job_loses_its_answer_not_the_lane() {
        let lanes = Lanes::default();
        assert_eq!(
            lanes.run_blocking(3, || -> u8 { panic!("a read failed") }),
            None
        );
        assert_eq!(
            lanes.run_blocking(3, thread_name).as_deref(),
            Some("pcs-data-1")
        );
    }

    #[tokio::test]
    async fn run_awaits_the_lane() {
        let lanes = Lanes::default();
        assert_eq!(
            lanes.run(2, thread_name).await.as_deref(),
            Some("pcs-data-0")
        );
    }

    /// Records the thread it was dropped on.
    struct Tracked(Arc<std::sync::Mutex<Option<String>>>);

    impl Drop for Tracked {
        fn drop(&mut self) {
            *self.0.lock().unwrap() = Some(thread_name());
        }
    }

    #[test]
    fn a_replaced_snapshot_is_freed_on_its_lane_after_its_last_reader() {
        let lanes = Lanes::default();
        let dropped_on = Arc::new(std::sync::Mutex::new(None));
        let old = Arc::new(Tracked(dropped_on.clone()));
        let reader = old.clone();
        lanes.release(5, old);
        std::thread::sleep(Duration::from_millis(100));
        assert_eq!(*dropped_on.lock().unwrap(), None, "a reader still holds it");
        drop(reader);
        // The lane runs its jobs in order: this one after the release.
        lanes.run_blocking(5, || ());
        assert_eq!(dropped_on.lock().unwrap().as_deref(), Some("pcs-data-1"));
    }
}
