//! A progress bar on the terminal for reads that take more than a second.
//! Silent when stderr is not a terminal or with `--quiet`.

use std::io::IsTerminal;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use pcs_data::Progress;

/// The display thread; stops (and clears the bar) when dropped.
pub struct Display {
    stop: Arc<AtomicBool>,
    handle: Option<JoinHandle<()>>,
}

/// Starts showing the progress of reading `total` bytes, if stderr is a
/// terminal and not `quiet`. Returns the counter to give the reader.
pub fn start(total: u64, quiet: bool) -> (Option<Arc<Progress>>, Display) {
    let stop = Arc::new(AtomicBool::new(false));
    if quiet || !std::io::stderr().is_terminal() {
        return (None, Display { stop, handle: None });
    }
    let progress = Arc::new(Progress::default());
    let (p, s) = (progress.clone(), stop.clone());
    let handle = std::thread::spawn(move || {
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(1) {
            if s.load(Ordering::Relaxed) {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let bar = indicatif::ProgressBar::new(total);
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "reading {bar:30} {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
            )
            .expect("a valid template"),
        );
        while !s.load(Ordering::Relaxed) {
            bar.set_position(p.bytes().min(total));
            std::thread::sleep(Duration::from_millis(100));
        }
        bar.finish_and_clear();
    });
    (
        Some(progress),
        Display {
            stop,
            handle: Some(handle),
        },
    )
}

impl Drop for Display {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}
