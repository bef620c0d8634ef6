//! The life-cycle checks every processor's tests share (STYLE.md, habit 13), written
//! once: the output does not depend on how a signal is cut into blocks, `reset()`
//! reproduces the output, and the latency is where an impulse's peak lands. Plus the
//! test signals the dynamics tests use.
//!
//! A processor is driven through a closure `process(&mut p, block, start)`, where
//! `block` holds frames `start..start + block[0].len()` of every channel, so a test can
//! change settings at a given frame or hand the matching slice of a sidechain along.

/// The block partitions every block-size check runs: one block for the whole signal,
/// single frames, and a cycle of odd sizes around the 64-frame passes of the dynamics
/// and saturation and the 32-frame chunks of the reverb.
pub(crate) const PARTITIONS: [&[usize]; 3] = [&[1 << 20], &[1], &[7, 64, 13, 100, 1, 333]];

/// Runs `input` (one `Vec` per channel, equal lengths) through `p` in place, in blocks
/// whose lengths cycle through `sizes`; no block crosses a frame listed in `splits`
/// (where the test changes settings). Returns the output per channel.
pub(crate) fn run_blocks<P>(
    p: &mut P,
    input: &[Vec<f32>],
    sizes: &[usize],
    splits: &[usize],
    mut process: impl FnMut(&mut P, &mut [&mut [f32]], usize),
) -> Vec<Vec<f32>> {
    let mut out = input.to_vec();
    let frames = out.iter().map(Vec::len).min().unwrap_or(0);
    let (mut start, mut k) = (0, 0);
    while start < frames {
        let limit = splits
            .iter()
            .copied()
            .filter(|&s| s > start)
            .min()
            .unwrap_or(frames)
            .min(frames);
        let len = sizes[k % sizes.len()].clamp(1, limit - start);
        k += 1;
        let mut block: Vec<&mut [f32]> =
            out.iter_mut().map(|c| &mut c[start..start + len]).collect();
        process(p, &mut block, start);
        start += len;
    }
    out
}

/// Asserts two multichannel outputs are bit-identical, naming the first frame that
/// differs.
#[track_caller]
pub(crate) fn assert_identical(a: &[Vec<f32>], b: &[Vec<f32>], what: &str) {
    assert_eq!(a.len(), b.len(), "{what}: channel count");
    for (c, (x, y)) in a.iter().zip(b).enumerate() {
        assert_eq!(x.len(), y.len(), "{what}: channel {c} length");
        // `to_bits`: NaN equals NaN, and +0 is not −0.
        if let Some(n) = (0..x.len()).find(|&n| x[n].to_bits() != y[n].to_bits()) {
            panic!(
                "{what}: channel {c} differs first at frame {n}: {} vs {}",
                x[n], y[n]
            );
        }
    }
}

/// Block-size independence: a fresh processor from `fresh()` gives bit-identical output
/// for every partition in [`PARTITIONS`] (block output = per-sample output = any
/// split). Returns the one-block output.
#[track_caller]
pub(crate) fn assert_block_size_independent<P>(
    fresh: impl Fn() -> P,
    input: &[Vec<f32>],
    splits: &[usize],
    mut process: impl FnMut(&mut P, &mut [&mut [f32]], usize),
) -> Vec<Vec<f32>> {
    let whole = run_blocks(&mut fresh(), input, PARTITIONS[0], splits, &mut process);
    for sizes in &PARTITIONS[1..] {
        let split = run_blocks(&mut fresh(), input, sizes, splits, &mut process);
        assert_identical(&whole, &split, &format!("blocks of {sizes:?}"));
    }
    whole
}

/// Reset reproducibility: `p` runs `input`, `reset(p)` is called, and the same input
/// gives bit-identical output again. A test that wants a different starting point (a
/// fresh processor vs. a reset one) passes `p` after the first run of its own.
#[track_caller]
pub(crate) fn assert_reset_reproduces<P>(
    p: &mut P,
    input: &[Vec<f32>],
    splits: &[usize],
    mut process: impl FnMut(&mut P, &mut [&mut [f32]], usize),
    reset: impl FnOnce(&mut P),
) {
    let sizes = [512];
    let first = run_blocks(p, input, &sizes, splits, &mut process);
    reset(p);
    let again = run_blocks(p, input, &sizes, splits, &mut process);
    assert_identical(&first, &again, "after reset");
}

/// A band-limited click: a Hann pulse of `width` frames (even) and `amplitude` starting
/// at frame `at`, in `frames` frames of silence. Its peak is at `at + width / 2`; unlike
/// a one-sample impulse it passes half-band and oversampling filters without ringing
/// that could move the peak.
pub(crate) fn click(frames: usize, at: usize, width: usize, amplitude: f32) -> Vec<f32> {
    (0..frames)
        .map(|n| {
            if (at..=at + width).contains(&n) {
                let phase = (n - at) as f64 / width as f64;
                let hann = 0.5 - 0.5 * (std::f64::consts::TAU * phase).cos();
                (amplitude as f64 * hann) as f32
            } else {
                0.0
            }
        })
        .collect()
}

/// The frame of the largest magnitude (the first of equal ones).
pub(crate) fn peak_position(x: &[f32]) -> usize {
    let mut best = 0;
    for (n, v) in x.iter().enumerate() {
        if v.abs() > x[best].abs() {
            best = n;
        }
    }
    best
}

/// Latency as the position of an impulse's peak: a [`click`] of `amplitude` (small
/// enough to stay in a processor's linear region) through `process` (mono) must peak
/// exactly `latency` frames after the input's peak.
#[track_caller]
pub(crate) fn assert_latency(latency: usize, amplitude: f32, process: impl FnOnce(&mut [f32])) {
    let (at, width) = (20, 48);
    let mut x = click(latency + 256, at, width, amplitude);
    process(&mut x);
    assert_eq!(
        peak_position(&x),
        at + width / 2 + latency,
        "latency {latency}"
    );
}

/// A sine of `amplitude` at `sample_rate / period` Hz (exact table, no phase drift),
/// starting at phase 0.
pub(crate) fn sine(amplitude: f32, period: usize, frames: usize) -> Vec<f32> {
    let table: Vec<f32> = (0..period)
        .map(|n| (std::f64::consts::TAU * n as f64 / period as f64).sin() as f32)
        .collect();
    (0..frames).map(|n| amplitude * table[n % period]).collect()
}

/// RMS level in dB of a slice.
pub(crate) fn rms_db(x: &[f32]) -> f64 {
    let ms = x.iter().map(|&v| v as f64 * v as f64).sum::<f64>() / x.len() as f64;
    10.0 * ms.log10()
}

/// dB to amplitude.
pub(crate) fn amp(db: f32) -> f32 {
    10f32.powf(db / 20.0)
}

/// A small seedable PRNG (xorshift32) for test noise.
pub(crate) struct Noise(pub u32);

impl Noise {
    /// Uniform in [−1, 1).
    pub(crate) fn next(&mut self) -> f32 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 17;
        self.0 ^= self.0 << 5;
        (self.0 as f32 / u32::MAX as f32) * 2.0 - 1.0
    }
}

/// Drum-like test material: noise bursts with decaying envelopes over a quiet bed, so
/// compressors and gates move through all their states.
pub(crate) fn program(frames: usize, seed: u32) -> Vec<f32> {
    let mut noise = Noise(seed);
    let mut env = 0.0f32;
    (0..frames)
        .map(|n| {
            if n % 4_800 == 0 {
                env = 1.0;
            }
            env *= 0.9995;
            noise.next() * (0.002 + 0.9 * env)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_respect_sizes_and_splits() {
        let input = vec![vec![0.0f32; 20]];
        let mut starts = Vec::new();
        run_blocks(&mut (), &input, &[3, 5], &[7], |_, block, start| {
            starts.push((start, block[0].len()));
        });
        assert_eq!(starts, [(0, 3), (3, 4), (7, 3), (10, 5), (15, 3), (18, 2)]);
    }

    #[test]
    fn the_checks_catch_what_they_name() {
        // A processor whose output depends on the block split (a per-block counter), one
        // that keeps state across `reset`, and a one-frame delay: each check must fail.
        let input = vec![program(1000, 3)];
        let by_block = std::panic::catch_unwind(|| {
            assert_block_size_independent(
                || 0u32,
                &input,
                &[],
                |calls, block, _| {
                    *calls += 1;
                    block[0][0] += *calls as f32;
                },
            )
        });
        assert!(by_block.is_err(), "a block-dependent processor passed");
        let keeps_state = std::panic::catch_unwind(|| {
            let mut sum = 0.0f32;
            assert_reset_reproduces(
                &mut sum,
                &input,
                &[],
                |s, block, _| {
                    block[0].iter_mut().for_each(|x| {
                        *s += *x;
                        *x += *s;
                    })
                },
                |_| {},
            );
        });
        assert!(keeps_state.is_err(), "a reset that clears nothing passed");
        let delayed = std::panic::catch_unwind(|| {
            assert_latency(0, 0.5, |x| x.rotate_right(1));
        });
        assert!(delayed.is_err(), "a one-frame delay passed as latency 0");
        assert_latency(1, 0.5, |x| x.rotate_right(1));
    }
}
