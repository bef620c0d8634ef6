//! Attack and release: smoothing of a gain-reduction signal in the log (dB) domain.
//!
//! Source: Giannoulis, Massberg and Reiss, JAES 2012, the "smooth branching peak
//! detector": a one-pole filter whose coefficient depends on whether the
//! target is above or below the state,
//!
//! ```text
//! s[n] = α_rise·s[n−1] + (1 − α_rise)·x[n]   if x[n] > s[n−1]
//! s[n] = α_fall·s[n−1] + (1 − α_fall)·x[n]   otherwise
//! ```
//!
//! run on the gain reduction in dB after the gain computer (their recommended
//! "log domain, after the gain computer" placement), so the step response of the gain
//! in dB is an exact exponential whatever the ratio and threshold.
//!
//! **Time definition.** Every time in this module (and every `attack_ms`/`release_ms`
//! in [`crate::dynamics`]) is the **10 %–90 % time** of that exponential: on a step of
//! the target, the gain reduction goes from 10 % to 90 % of its change in exactly that
//! time. The one-pole time constant is `τ = t₁₀₋₉₀ / ln 9` and
//! `α = exp(−1 / (τ·f_s))`, so the discrete step response `1 − α^(n+1)` crosses 10 %
//! and 90 % `ln 9 / −ln α = t₁₀₋₉₀·f_s` samples apart (to within one sample of where the
//! crossings land on the sample grid).

/// `ln 9`: the 10 %–90 % time of a one-pole step response in time constants.
pub const LN_9: f64 = 2.197_224_577_336_219_6;

/// The one-pole coefficient `α` whose step response rises from 10 % to 90 % in
/// `time_ms` at `sample_rate`. A time of zero (or less) gives 0: the state jumps.
#[inline]
pub fn one_pole_coefficient(time_ms: f32, sample_rate: f32) -> f64 {
    let samples = time_ms as f64 * 1e-3 * sample_rate as f64 / LN_9;
    if samples > 0.0 && samples.is_finite() {
        (-1.0 / samples).exp()
    } else {
        0.0
    }
}

/// Below this much gain reduction (dB) a releasing smoother outputs exactly 0, so an idle
/// processor passes the signal bit-exactly. 1e-6 dB is a gain error of 1.2e-7.
pub const GAIN_REDUCTION_FLOOR_DB: f64 = 1e-6;

/// The largest value of a block (0 for an empty one), in a separate pass: written as a
/// compare-and-select (not `f32::max`, whose NaN rule costs three more instructions) so it
/// vectorises and stays off the ballistics' serial recursion.
#[inline]
pub fn max_of(values: &[f32]) -> f32 {
    values
        .iter()
        .fold(0.0f32, |m, &x| if x > m { x } else { m })
}

/// Smooth branching one-pole on a gain reduction in dB (≥ 0 means attenuation).
///
/// State and coefficients are `f64`: a 5 s release at 384 kHz has `1 − α ≈ 1.1e-6`,
/// which `f32` cannot represent to better than 5 %.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Ballistics {
    rise: f64,
    fall: f64,
    state: f64,
}

impl Ballistics {
    /// Ballistics at rest (no gain reduction) with the given 10–90 % times: `rise_ms`
    /// while the gain reduction grows, `fall_ms` while it shrinks. A compressor's attack
    /// is its rise and its release the fall; a gate's attack (opening) is the fall of its
    /// gain reduction and its release (closing) the rise.
    pub fn new(sample_rate: f32, rise_ms: f32, fall_ms: f32) -> Self {
        let mut b = Self {
            rise: 0.0,
            fall: 0.0,
            state: 0.0,
        };
        b.set_times(sample_rate, rise_ms, fall_ms);
        b
    }

    /// Changes the 10–90 % times; the state is kept, so a change never clicks.
    pub fn set_times(&mut self, sample_rate: f32, rise_ms: f32, fall_ms: f32) {
        self.rise = one_pole_coefficient(rise_ms, sample_rate);
        self.fall = one_pole_coefficient(fall_ms, sample_rate);
    }

    /// One step toward `target_db` (gain reduction in dB, ≥ 0); returns the new state.
    #[inline]
    pub fn tick(&mut self, target_db: f32) -> f32 {
        let target = target_db as f64;
        // Both branches are computed and one is selected, so the recursion's critical
        // path is one multiply, one add and a blend (≈ 9 cycles) rather than a compare,
        // a coefficient load, a multiply and an add.
        let rising = self.rise * self.state + (1.0 - self.rise) * target;
        let falling = self.fall * self.state + (1.0 - self.fall) * target;
        self.state = if target > self.state { rising } else { falling };
        // The floor is applied to the output only, off the recursion's critical path;
        // the state itself decays on toward zero (and flushes to it under FTZ).
        if self.state < GAIN_REDUCTION_FLOOR_DB && target <= 0.0 {
            0.0
        } else {
            self.state as f32
        }
    }

    /// Runs [`Ballistics::tick`] over a block: each target (dB) is replaced by the
    /// smoothed gain reduction. Returns the largest value reached.
    #[inline]
    pub fn process_in_place(&mut self, targets_db: &mut [f32]) -> f32 {
        for x in targets_db.iter_mut() {
            *x = self.tick(*x);
        }
        max_of(targets_db)
    }

    /// [`Ballistics::process_in_place`] on `N` independent followers at once: the
    /// same steps in the same order for each follower (bit-identical results), with
    /// the `N` serial recursions interleaved in one loop so that they overlap. Returns
    /// each follower's largest reduction. Slices of different lengths are fine.
    #[inline]
    pub fn process_interleaved<const N: usize>(
        followers: [(&mut Ballistics, &mut [f32]); N],
    ) -> [f32; N] {
        let len = followers.iter().map(|(_, t)| t.len()).min().unwrap_or(0);
        let mut local = followers.each_ref().map(|(b, _)| **b);
        let mut followers = followers;
        {
            let mut heads = followers.each_mut().map(|(_, t)| &mut t[..len]);
            for i in 0..len {
                for (b, head) in local.iter_mut().zip(heads.iter_mut()) {
                    let x = &mut head[i];
                    *x = b.tick(*x);
                }
            }
        }
        let mut k = 0;
        followers.map(|(b, t)| {
            *b = local[k];
            k += 1;
            for x in t[len..].iter_mut() {
                *x = b.tick(*x);
            }
            max_of(t)
        })
    }

    /// The current gain reduction in dB (the unfloored state).
    #[inline]
    pub fn state_db(&self) -> f32 {
        self.state as f32
    }

    /// Sets the state (to copy one channel's ballistics to another, or after a reset).
    #[inline]
    pub fn set_state_db(&mut self, state_db: f32) {
        self.state = state_db as f64;
    }

    /// Back to no gain reduction.
    pub fn reset(&mut self) {
        self.state = 0.0;
    }
}

/// Program-dependent ("auto") release: two branching smoothers on the same target and
/// the larger of their gain reductions.
///
/// The fast branch has the set attack and a release of `release_ms /`
/// [`AUTO_FAST_RELEASE_DIVISOR`] (at least [`AUTO_FAST_RELEASE_MIN_MS`]); the slow branch
/// charges toward the target with a rise of [`AUTO_CHARGE_MS`] (never faster than the
/// attack, whose maximum is 300 ms) and releases with the full `release_ms`.
/// A short transient barely charges the slow branch, so the gain recovers at the fast
/// rate; after sustained gain reduction the slow branch holds it and the gain recovers
/// at `release_ms`. This is the classic dual-time-constant release (as in the SSL bus
/// compressor's auto mode). The attack is unchanged: on a step the slow branch charges
/// no faster than the fast one, so the 10–90 % attack time stays exact.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AutoReleaseBallistics {
    fast: Ballistics,
    slow: Ballistics,
}

/// The fast branch releases this many times faster than the set release.
pub const AUTO_FAST_RELEASE_DIVISOR: f32 = 8.0;
/// The shortest fast-branch release (10–90 %).
pub const AUTO_FAST_RELEASE_MIN_MS: f32 = 5.0;
/// The slow branch's charge (rise) time, 10–90 %: gain reduction held for about this
/// long releases at the full set release.
pub const AUTO_CHARGE_MS: f32 = 300.0;

impl AutoReleaseBallistics {
    /// At rest, with the set attack and (slow) release.
    pub fn new(sample_rate: f32, attack_ms: f32, release_ms: f32) -> Self {
        let mut b = Self {
            fast: Ballistics::new(sample_rate, 0.0, 0.0),
            slow: Ballistics::new(sample_rate, 0.0, 0.0),
        };
        b.set_times(sample_rate, attack_ms, release_ms);
        b
    }

    /// Changes the times; the states are kept.
    pub fn set_times(&mut self, sample_rate: f32, attack_ms: f32, release_ms: f32) {
        let fast_release = (release_ms / AUTO_FAST_RELEASE_DIVISOR).max(AUTO_FAST_RELEASE_MIN_MS);
        self.fast.set_times(sample_rate, attack_ms, fast_release);
        self.slow.set_times(sample_rate, AUTO_CHARGE_MS, release_ms);
    }

    /// One step toward `target_db`; returns the gain reduction in dB.
    #[inline]
    pub fn tick(&mut self, target_db: f32) -> f32 {
        let fast = self.fast.tick(target_db);
        let slow = self.slow.tick(target_db);
        fast.max(slow)
    }

    /// Runs [`AutoReleaseBallistics::tick`] over a block in place; returns the largest
    /// value reached.
    #[inline]
    pub fn process_in_place(&mut self, targets_db: &mut [f32]) -> f32 {
        for x in targets_db.iter_mut() {
            *x = self.tick(*x);
        }
        max_of(targets_db)
    }

    /// The current gain reduction in dB.
    #[inline]
    pub fn state_db(&self) -> f32 {
        self.fast.state_db().max(self.slow.state_db())
    }

    /// Sets both branches (the slow branch to the same value: fully charged).
    #[inline]
    pub fn set_state_db(&mut self, state_db: f32) {
        self.fast.set_state_db(state_db);
        self.slow.set_state_db(state_db);
    }

    /// Copies the branch states of `other` (for linked channels).
    #[inline]
    pub fn copy_state_from(&mut self, other: &Self) {
        self.fast.state = other.fast.state;
        self.slow.state = other.slow.state;
    }

    /// Starts auto release from a plain release state: fast = `state_db`, slow empty.
    #[inline]
    pub fn start_from(&mut self, state_db: f32) {
        self.fast.set_state_db(state_db);
        self.slow.set_state_db(0.0);
    }

    /// Back to no gain reduction.
    pub fn reset(&mut self) {
        self.fast.reset();
        self.slow.reset();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Samples between the 10 % and 90 % crossings of a step from `from` to `to`.
    fn ten_ninety_samples(b: &mut Ballistics, from: f32, to: f32) -> usize {
        b.set_state_db(from);
        let (lo, hi) = (from + 0.1 * (to - from), from + 0.9 * (to - from));
        let crossed = |v: f32, level: f32| if to > from { v >= level } else { v <= level };
        let mut t10 = None;
        for n in 0..10_000_000 {
            let v = b.tick(to);
            if t10.is_none() && crossed(v, lo) {
                t10 = Some(n);
            }
            if crossed(v, hi) {
                return n - t10.unwrap_or(n);
            }
        }
        panic!("never reached 90 %");
    }

    #[test]
    fn ten_to_ninety_equals_the_set_time() {
        let fs = 48_000.0;
        for &(rise, fall) in &[(0.5f32, 5.0f32), (10.0, 100.0), (300.0, 5000.0)] {
            let mut b = Ballistics::new(fs, rise, fall);
            let up = ten_ninety_samples(&mut b, 0.0, 20.0) as f32;
            let down = ten_ninety_samples(&mut b, 20.0, 0.0) as f32;
            // ±1 sample: the crossings are quantised to the sample grid.
            assert!(
                (up - rise * 48.0).abs() <= 1.0,
                "rise {rise} ms: {up} samples"
            );
            assert!(
                (down - fall * 48.0).abs() <= 1.0,
                "fall {fall} ms: {down} samples"
            );
        }
    }

    #[test]
    fn settles_exactly_to_zero() {
        let mut b = Ballistics::new(48_000.0, 1.0, 1.0);
        b.set_state_db(40.0);
        // 40 dB decays below the 1e-6 dB floor after 48·ln(4e7)/ln 9 ≈ 383 samples.
        let out: Vec<f32> = (0..1000).map(|_| b.tick(0.0)).collect();
        assert!(out[370] > 0.0);
        assert!(
            out[400..].iter().all(|&x| x == 0.0),
            "exactly zero from the floor on"
        );
    }

    #[test]
    fn auto_release_depends_on_how_long_the_reduction_lasted() {
        let fs = 48_000.0;
        let recovery = |hold_samples: usize| {
            let mut b = AutoReleaseBallistics::new(fs, 1.0, 800.0);
            for _ in 0..hold_samples {
                b.tick(10.0);
            }
            // Samples until the reduction is back under 1 dB.
            (0..10 * 48_000)
                .position(|_| b.tick(0.0) < 1.0)
                .unwrap_or(usize::MAX)
        };
        let short = recovery(480); // 10 ms burst
        let long = recovery(96_000); // 2 s of sustained reduction
                                     // A short burst recovers at about the fast rate (100 ms 10–90 %, ≈ 105 ms from
                                     // 10 dB to 1 dB), a long one at about the full 800 ms: at least 4× slower.
        assert!(short < 150 * 48, "short burst took {short} samples");
        assert!(long > 4 * short, "long {long} vs short {short}");
        // And the attack of the auto ballistics is the plain attack.
        let mut a = AutoReleaseBallistics::new(fs, 5.0, 800.0);
        let mut plain = Ballistics::new(fs, 5.0, 100.0);
        for _ in 0..1000 {
            assert_eq!(a.tick(20.0), plain.tick(20.0));
        }
    }
}
