//! Criterion measured by the benchmark thread's CPU time (the `cpu-time` crate's thread
//! clock), shared by the benchmarks that use it (`#[path]` module): on a machine shared
//! with other jobs the time the thread waits for a core is not counted. Wall time where
//! the system has no thread clock.

use criterion::measurement::{Measurement, ValueFormatter, WallTime};
use std::time::Duration;

/// The calling thread's CPU time, or wall time where the system has no thread clock.
pub struct ThreadCpuTime;

fn thread_cpu_time() -> Duration {
    use std::sync::OnceLock;
    static START: OnceLock<std::time::Instant> = OnceLock::new();
    match cpu_time::ThreadTime::try_now() {
        Ok(t) => t.as_duration(),
        Err(_) => START.get_or_init(std::time::Instant::now).elapsed(),
    }
}

static WALL: WallTime = WallTime;

impl Measurement for ThreadCpuTime {
    type Intermediate = Duration;
    type Value = Duration;
    fn start(&self) -> Duration {
        thread_cpu_time()
    }
    fn end(&self, start: Duration) -> Duration {
        thread_cpu_time().saturating_sub(start)
    }
    fn add(&self, a: &Duration, b: &Duration) -> Duration {
        *a + *b
    }
    fn zero(&self) -> Duration {
        Duration::ZERO
    }
    fn to_f64(&self, value: &Duration) -> f64 {
        value.as_nanos() as f64
    }
    fn formatter(&self) -> &dyn ValueFormatter {
        WALL.formatter()
    }
}
