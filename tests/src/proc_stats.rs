//! What this test process holds, from `/proc/self` and the C allocator: threads, open
//! file descriptors, and the heap in use. The editor tests sample them between editor
//! opens to find what an editor leaves behind.

use anyhow::{Context, Result};

/// This process's counts at one moment.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Sample {
    /// Threads (`Threads:` in `/proc/self/status`).
    pub threads: usize,
    /// Open file descriptors (entries of `/proc/self/fd`, less the one reading it).
    pub fds: usize,
    /// Resident memory, KiB (`VmRSS:`).
    pub rss_kib: f64,
    /// The C heap in use, KiB: allocated and not freed (glibc's `mallinfo2`, the arenas'
    /// chunks in use plus the blocks mapped on their own). What a leak grows; RSS also
    /// keeps memory that was freed but not returned to the system.
    pub heap_kib: f64,
}

/// Samples this process now.
pub fn sample() -> Result<Sample> {
    let status = std::fs::read_to_string("/proc/self/status").context("read /proc/self/status")?;
    let field = |name: &str| -> Result<f64> {
        status
            .lines()
            .find_map(|line| line.strip_prefix(name))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|value| value.parse().ok())
            .with_context(|| format!("no {name} in /proc/self/status"))
    };
    // `read_dir` holds a descriptor of its own while it lists.
    let fds = std::fs::read_dir("/proc/self/fd")
        .context("list /proc/self/fd")?
        .count()
        - 1;
    Ok(Sample {
        threads: field("Threads:")? as usize,
        fds,
        rss_kib: field("VmRSS:")?,
        heap_kib: heap_in_use_kib(),
    })
}

/// glibc's `struct mallinfo2` (glibc 2.33 and later).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[repr(C)]
struct MallInfo2 {
    arena: usize,
    ordblks: usize,
    smblks: usize,
    hblks: usize,
    hblkhd: usize,
    usmblks: usize,
    fsmblks: usize,
    uordblks: usize,
    fordblks: usize,
    keepcost: usize,
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
extern "C" {
    fn mallinfo2() -> MallInfo2;
}

/// The C heap in use, KiB (NaN where the C library is not glibc).
pub fn heap_in_use_kib() -> f64 {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        // SAFETY: a plain C call that fills and returns a struct; glibc locks its arenas.
        let info = unsafe { mallinfo2() };
        (info.uordblks + info.hblkhd) as f64 / 1024.0
    }
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    {
        f64::NAN
    }
}

/// The least-squares slope of `values` against their index: the growth per step of a
/// series whose single steps are noisy.
pub fn slope(values: &[f64]) -> f64 {
    let n = values.len() as f64;
    let mean_x = (n - 1.0) / 2.0;
    let mean_y = values.iter().sum::<f64>() / n;
    let (num, den) = values
        .iter()
        .enumerate()
        .fold((0.0, 0.0), |(num, den), (i, &y)| {
            let dx = i as f64 - mean_x;
            (num + dx * (y - mean_y), den + dx * dx)
        });
    num / den
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slope_of_a_line_and_of_noise() {
        let line: Vec<f64> = (0..46).map(|i| 1000.0 + 300.0 * i as f64).collect();
        assert!((slope(&line) - 300.0).abs() < 1e-9);
        let flat_sawtooth: Vec<f64> = (0..46).map(|i| [0.0, 4000.0][i % 2]).collect();
        assert!(slope(&flat_sawtooth).abs() < 100.0);
    }
}
