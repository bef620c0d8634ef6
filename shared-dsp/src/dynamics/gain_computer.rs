//! The static curve: how many dB of gain a level gets, hard or soft knee.
//!
//! Source: D. Giannoulis, M. Massberg, J. D. Reiss, "Digital Dynamic Range Compressor
//! Design — A Tutorial and Analysis", JAES 60(6), 2012, eq. (4) (compressor with a
//! quadratic soft knee of width W). With `x` the input level in dB, `T` the threshold,
//! `R` the ratio and `W` the knee width, the compressor's output level is
//!
//! ```text
//! y = x                                   2(x − T) < −W
//! y = x + (1/R − 1)(x − T + W/2)² / (2W)  2|x − T| ≤ W
//! y = T + (x − T)/R                       2(x − T) > W
//! ```
//!
//! The downward expander mirrors it below the threshold (slope `R` under `T`, the knee
//! centred on `T`, derived the same way: a parabola that meets both lines with matching
//! slopes):
//!
//! ```text
//! y = T + (x − T)·R                       2(x − T) < −W
//! y = x − (R − 1)(x − T − W/2)² / (2W)    2|x − T| ≤ W
//! y = x                                   2(x − T) > W
//! ```
//!
//! and its gain `y − x` is limited to `−range_db`. A ratio of `f32::INFINITY` is a
//! limiter-style compressor (flat above the threshold) or, for the expander, a gate
//! (hard switch to `−range_db` below the threshold, knee ignored).

/// Which side of the threshold the curve acts on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CurveKind {
    /// Downward compression: levels above the threshold are turned down.
    Compress,
    /// Downward expansion (gating at ratio ∞): levels below the threshold are turned
    /// down, by at most the range.
    Expand,
}

/// A gain computer (static curve). `gain_db(level_db)` is the analytic gain, ≤ 0 dB.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GainComputer {
    kind: CurveKind,
    threshold_db: f32,
    ratio: f32,
    knee_db: f32,
    range_db: f32,
    /// Compress: `1/R − 1` (in [−1, 0]). Expand: `R − 1` (≥ 0, may be ∞).
    slope: f32,
    half_knee_db: f32,
    /// `1/(2W)`, 0 for a hard knee.
    inv_two_knee: f32,
}

impl GainComputer {
    /// A compressor curve. `ratio` ≥ 1 (`f32::INFINITY` for ∞:1), `knee_db` ≥ 0.
    /// Out-of-range values are clamped (ratio below 1 acts as 1, a negative knee as 0).
    pub fn compressor(threshold_db: f32, ratio: f32, knee_db: f32) -> Self {
        let ratio = if ratio >= 1.0 { ratio } else { 1.0 };
        Self::from_inverse_ratio(threshold_db, 1.0 / ratio, knee_db)
    }

    /// A compressor curve from `1/ratio` (0 for ∞:1, 1 for 1:1). Chains smooth
    /// `1/ratio` rather than the ratio because it stays finite at ∞:1.
    #[inline]
    pub fn from_inverse_ratio(threshold_db: f32, inverse_ratio: f32, knee_db: f32) -> Self {
        let inverse_ratio = inverse_ratio.clamp(0.0, 1.0);
        let knee_db = knee_db.max(0.0);
        Self {
            kind: CurveKind::Compress,
            threshold_db,
            ratio: 1.0 / inverse_ratio,
            knee_db,
            range_db: f32::INFINITY,
            slope: inverse_ratio - 1.0,
            half_knee_db: 0.5 * knee_db,
            inv_two_knee: if knee_db > 0.0 { 0.5 / knee_db } else { 0.0 },
        }
    }

    /// A downward expander: `ratio` ≥ 1 below the threshold (`f32::INFINITY` gates),
    /// attenuation limited to `range_db` ≥ 0.
    pub fn expander(threshold_db: f32, ratio: f32, knee_db: f32, range_db: f32) -> Self {
        let ratio = if ratio >= 1.0 { ratio } else { 1.0 };
        let knee_db = knee_db.max(0.0);
        Self {
            kind: CurveKind::Expand,
            threshold_db,
            ratio,
            knee_db,
            range_db: range_db.max(0.0),
            slope: ratio - 1.0,
            half_knee_db: 0.5 * knee_db,
            inv_two_knee: if knee_db > 0.0 { 0.5 / knee_db } else { 0.0 },
        }
    }

    /// The curve's kind.
    pub fn kind(&self) -> CurveKind {
        self.kind
    }

    /// Threshold in dB.
    pub fn threshold_db(&self) -> f32 {
        self.threshold_db
    }

    /// Ratio (∞ as `f32::INFINITY`).
    pub fn ratio(&self) -> f32 {
        self.ratio
    }

    /// Knee width in dB (0 = hard knee).
    pub fn knee_db(&self) -> f32 {
        self.knee_db
    }

    /// The lowest level (dB) at which the compressor acts: `T − W/2`. Below it the gain
    /// is exactly 0 dB, so a chain can skip the logarithm for quieter frames.
    #[inline]
    pub fn knee_start_db(&self) -> f32 {
        self.threshold_db - self.half_knee_db
    }

    /// The highest level (dB) at which the expander acts: `T + W/2` (T for a gate).
    #[inline]
    pub fn knee_end_db(&self) -> f32 {
        if self.slope.is_finite() {
            self.threshold_db + self.half_knee_db
        } else {
            self.threshold_db
        }
    }

    /// The static gain in dB (≤ 0) for an input level in dB: eq. (4) of Giannoulis et
    /// al. (see the module notes). This is the analytic curve that tests and meters use
    /// and the one the processors run.
    #[inline]
    pub fn gain_db(&self, level_db: f32) -> f32 {
        let over = level_db - self.threshold_db;
        match self.kind {
            CurveKind::Compress => {
                if over <= -self.half_knee_db {
                    0.0
                } else if over < self.half_knee_db {
                    // Inside the knee (only reachable with W > 0).
                    let d = over + self.half_knee_db;
                    self.slope * d * d * self.inv_two_knee
                } else {
                    self.slope * over
                }
            }
            CurveKind::Expand => {
                let gain = if !self.slope.is_finite() {
                    // Gate: a hard switch at the threshold.
                    if over < 0.0 {
                        -self.range_db
                    } else {
                        0.0
                    }
                } else if over >= self.half_knee_db {
                    0.0
                } else if over > -self.half_knee_db {
                    let d = over - self.half_knee_db;
                    -self.slope * d * d * self.inv_two_knee
                } else {
                    self.slope * over
                };
                gain.max(-self.range_db)
            }
        }
    }

    /// Same as [`GainComputer::gain_db`]; the name the meters and tests use.
    pub fn static_gain_db(&self, input_db: f32) -> f32 {
        self.gain_db(input_db)
    }

    /// The static output level in dB for an input level in dB.
    pub fn output_db(&self, input_db: f32) -> f32 {
        input_db + self.gain_db(input_db)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hard_knee_compressor_textbook_points() {
        let c = GainComputer::compressor(-20.0, 4.0, 0.0);
        assert_eq!(c.gain_db(-40.0), 0.0);
        assert_eq!(c.gain_db(-20.0), 0.0);
        // 20 dB over at 4:1 comes out 5 dB over: 15 dB of reduction.
        assert!((c.output_db(0.0) - (-15.0)).abs() < 1e-5);
        let lim = GainComputer::compressor(-10.0, f32::INFINITY, 0.0);
        assert!((lim.output_db(0.0) - (-10.0)).abs() < 1e-6);
        assert!((lim.output_db(-5.0) - (-10.0)).abs() < 1e-6);
        let unity = GainComputer::compressor(-30.0, 1.0, 6.0);
        assert_eq!(unity.gain_db(0.0), 0.0);
    }

    #[test]
    fn soft_knee_is_continuous_with_matching_slopes() {
        for &ratio in &[2.0, 4.0, f32::INFINITY] {
            let c = GainComputer::compressor(-20.0, ratio, 12.0);
            // The knee meets the lines at T ± W/2 (values within f32 rounding, 1e-5 dB).
            assert!(c.gain_db(-26.0).abs() < 1e-6);
            let above = -14.0f32;
            let line = (1.0 / ratio - 1.0) * (above + 20.0);
            assert!((c.gain_db(above) - line).abs() < 1e-5);
            // Slopes on both sides of each joint agree within a finite-difference error.
            let h = 1e-2;
            for &x in &[-26.0f32, -14.0] {
                let left = (c.gain_db(x) - c.gain_db(x - h)) / h;
                let right = (c.gain_db(x + h) - c.gain_db(x)) / h;
                assert!(
                    (left - right).abs() < 2e-3,
                    "ratio {ratio} at {x}: {left} {right}"
                );
            }
            // At the threshold the knee is a quarter of the way: (1/R − 1)·W/8.
            let expected = (1.0 / ratio - 1.0) * 12.0 / 8.0;
            assert!((c.gain_db(-20.0) - expected).abs() < 1e-5);
        }
    }

    #[test]
    fn expander_and_gate() {
        let e = GainComputer::expander(-40.0, 2.0, 0.0, 30.0);
        assert_eq!(e.gain_db(-30.0), 0.0);
        assert!(
            (e.gain_db(-50.0) - (-10.0)).abs() < 1e-6,
            "10 dB under at 1:2"
        );
        assert_eq!(e.gain_db(-100.0), -30.0, "limited to the range");
        let soft = GainComputer::expander(-40.0, 3.0, 10.0, 80.0);
        assert!(soft.gain_db(-35.0).abs() < 1e-6);
        assert!((soft.gain_db(-45.0) - (-10.0)).abs() < 1e-5);
        let gate = GainComputer::expander(-40.0, f32::INFINITY, 6.0, 80.0);
        assert_eq!(gate.gain_db(-40.0), 0.0);
        assert_eq!(gate.gain_db(-40.01), -80.0);
        assert!(gate.gain_db(-39.0) == 0.0 && gate.gain_db(-200.0) == -80.0);
        assert_eq!(gate.knee_end_db(), -40.0);
    }
}
