//! The mastering tonal EQ: tilt, low shelf, broad mid bell and high shelf, applied to
//! the stereo signal, to its mid (L+R) only or to its side (L−R) only.
//!
//! The filtering is the channel strip's [`ChannelEq`] (analog-matched designs, smoothed
//! parameters, zero latency); this type only maps the mastering controls onto its
//! bands and does the mid/side routing:
//!
//! - tilt: a low shelf and a high shelf, both at the pivot `tilt_freq_hz` with Q
//!   [`TILT_Q`], the low one at `−tilt_db` and the high one at `+tilt_db`. At the pivot
//!   each is at half its gain, so they cancel (0 dB); far below the pivot the response
//!   is `−tilt_db`, far above it `+tilt_db`: a tilt of ±`tilt_db` around the pivot;
//! - low shelf, bell (Q [`MIN_MID_Q`]…[`MAX_MID_Q`], broad), high shelf.
//!
//! Routing: three [`ChannelEq`]s in series, a stereo one on L/R and a mono one each on
//! mid and side (`M = (L+R)/2`, `S = (L−R)/2`). The mode decides which of them has its
//! bands on; a mode change therefore ramps one set of bands to 0 dB while the other
//! ramps in (the `ChannelEq`'s 20 ms gain ramps), with no click. While neither the mid
//! nor the side EQ has been on for longer than its ramp, the mid/side conversion is
//! skipped and stereo mode is exactly the stereo `ChannelEq`.

use crate::filter::{BandKind, BandSettings as EqBand, ChannelEq, EqSettings};
use crate::sanitize::setting_or;

/// Q of the two tilt shelves: 0.5 gives a gentle, monotonic slope (no shelf bump).
pub const TILT_Q: f32 = 0.5;
/// Q of the low and high shelves (Butterworth-like, no overshoot).
pub const SHELF_Q: f32 = 0.707;
/// The broadest mid bell.
pub const MIN_MID_Q: f32 = 0.1;
/// The narrowest mid bell ("broad" bells only).
pub const MAX_MID_Q: f32 = 2.0;
/// Largest tilt, dB.
pub const MAX_TILT_DB: f32 = 6.0;
/// Largest shelf or bell gain, dB.
pub const MAX_GAIN_DB: f32 = 12.0;

/// Which part of the stereo signal the EQ acts on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum EqMode {
    /// Both channels alike.
    #[default]
    Stereo,
    /// The mid signal `(L+R)/2` only.
    MidOnly,
    /// The side signal `(L−R)/2` only.
    SideOnly,
}

/// Tonal EQ settings in plain units (the issue's `eq_*` parameters).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TonalEqSettings {
    /// EQ on; off ramps every band to 0 dB.
    pub on: bool,
    /// Tilt, −6 … +6 dB: `+tilt_db` far above the pivot, `−tilt_db` far below.
    pub tilt_db: f32,
    /// Tilt pivot, 100 Hz … 10 kHz (default 1 kHz).
    pub tilt_freq_hz: f32,
    /// Low shelf frequency, 20 … 1000 Hz (default 100 Hz).
    pub low_freq_hz: f32,
    /// Low shelf gain, ±12 dB.
    pub low_gain_db: f32,
    /// Bell centre, 100 Hz … 10 kHz (default 1 kHz).
    pub mid_freq_hz: f32,
    /// Bell gain, ±12 dB.
    pub mid_gain_db: f32,
    /// Bell Q, 0.1 … 2 (default 0.7).
    pub mid_q: f32,
    /// High shelf frequency, 1 … 20 kHz (default 8 kHz).
    pub high_freq_hz: f32,
    /// High shelf gain, ±12 dB.
    pub high_gain_db: f32,
    /// Stereo, mid only or side only.
    pub mode: EqMode,
}

impl Default for TonalEqSettings {
    fn default() -> Self {
        Self {
            on: true,
            tilt_db: 0.0,
            tilt_freq_hz: 1000.0,
            low_freq_hz: 100.0,
            low_gain_db: 0.0,
            mid_freq_hz: 1000.0,
            mid_gain_db: 0.0,
            mid_q: 0.7,
            high_freq_hz: 8000.0,
            high_gain_db: 0.0,
            mode: EqMode::Stereo,
        }
    }
}

impl TonalEqSettings {
    /// Every value inside its documented range (NaN or ±∞ → default).
    pub fn sanitized(&self) -> Self {
        let d = Self::default();
        Self {
            tilt_db: setting_or(self.tilt_db, -MAX_TILT_DB, MAX_TILT_DB, 0.0),
            tilt_freq_hz: setting_or(self.tilt_freq_hz, 100.0, 10_000.0, d.tilt_freq_hz),
            low_freq_hz: setting_or(self.low_freq_hz, 20.0, 1000.0, d.low_freq_hz),
            low_gain_db: setting_or(self.low_gain_db, -MAX_GAIN_DB, MAX_GAIN_DB, 0.0),
            mid_freq_hz: setting_or(self.mid_freq_hz, 100.0, 10_000.0, d.mid_freq_hz),
            mid_gain_db: setting_or(self.mid_gain_db, -MAX_GAIN_DB, MAX_GAIN_DB, 0.0),
            mid_q: setting_or(self.mid_q, MIN_MID_Q, MAX_MID_Q, d.mid_q),
            high_freq_hz: setting_or(self.high_freq_hz, 1000.0, 20_000.0, d.high_freq_hz),
            high_gain_db: setting_or(self.high_gain_db, -MAX_GAIN_DB, MAX_GAIN_DB, 0.0),
            ..*self
        }
    }

    /// The `ChannelEq` settings of these controls, bands on or off by `active`.
    fn channel_eq(&self, active: bool) -> EqSettings {
        let s = self.sanitized();
        let band = |kind, freq_hz, gain_db, q| EqBand {
            on: true,
            kind,
            freq_hz,
            gain_db,
            q,
        };
        let mut eq = EqSettings {
            eq_on: s.on && active,
            ..EqSettings::default()
        };
        eq.bands = [
            band(BandKind::LowShelf, s.tilt_freq_hz, -s.tilt_db, TILT_Q),
            band(BandKind::HighShelf, s.tilt_freq_hz, s.tilt_db, TILT_Q),
            band(BandKind::LowShelf, s.low_freq_hz, s.low_gain_db, SHELF_Q),
            band(BandKind::Bell, s.mid_freq_hz, s.mid_gain_db, s.mid_q),
            band(BandKind::HighShelf, s.high_freq_hz, s.high_gain_db, SHELF_Q),
            EqBand {
                on: false,
                ..band(BandKind::Bell, 1000.0, 0.0, 1.0)
            },
        ];
        eq
    }

    /// The magnitude in dB these settings give the channels they act on (for the
    /// editor's curve; all ramps settled).
    pub fn magnitude_db(&self, freq_hz: f64, sample_rate: f64) -> f64 {
        self.channel_eq(true).magnitude_db(freq_hz, sample_rate)
    }
}

/// The mastering tonal EQ (see the module notes). No latency.
#[derive(Debug, Clone)]
pub struct TonalEq {
    settings: TonalEqSettings,
    stereo: ChannelEq,
    mid: ChannelEq,
    side: ChannelEq,
    /// Frames the mid/side EQs must still run after they were last on (ramp + margin).
    ms_hold: usize,
    ms_hold_frames: usize,
}

impl TonalEq {
    /// A tonal EQ at rest with default (flat) settings.
    pub fn new(sample_rate: f32) -> Self {
        let fs = if sample_rate.is_finite() && sample_rate > 0.0 {
            sample_rate
        } else {
            48_000.0
        };
        let ramp = crate::filter::eq::GAIN_RAMP_MS.max(crate::filter::eq::FREQ_RAMP_MS);
        let mut eq = Self {
            settings: TonalEqSettings::default(),
            stereo: ChannelEq::new(fs, 2),
            mid: ChannelEq::new(fs, 1),
            side: ChannelEq::new(fs, 1),
            ms_hold: 0,
            ms_hold_frames: (2.0 * ramp * 1e-3 * fs) as usize + 64,
        };
        let s = eq.settings;
        eq.set_settings_immediately(&s);
        eq
    }

    /// No latency.
    pub fn latency(&self) -> usize {
        0
    }

    /// Clears the filter state; settings jump to their targets.
    pub fn reset(&mut self) {
        self.stereo.reset();
        self.mid.reset();
        self.side.reset();
        self.ms_hold = if self.settings.mode == EqMode::Stereo {
            0
        } else {
            self.ms_hold_frames
        };
    }

    /// Applies settings with no ramps (before audio starts).
    pub fn set_settings_immediately(&mut self, settings: &TonalEqSettings) {
        self.settings = *settings;
        let (st, m, s) = Self::routing(settings);
        self.stereo.set_settings_immediately(&st);
        self.mid.set_settings_immediately(&m);
        self.side.set_settings_immediately(&s);
        self.ms_hold = if settings.mode == EqMode::Stereo {
            0
        } else {
            self.ms_hold_frames
        };
    }

    fn routing(s: &TonalEqSettings) -> (EqSettings, EqSettings, EqSettings) {
        (
            s.channel_eq(s.mode == EqMode::Stereo),
            s.channel_eq(s.mode == EqMode::MidOnly),
            s.channel_eq(s.mode == EqMode::SideOnly),
        )
    }

    /// Applies settings (ramped). The same settings again cost one comparison.
    pub fn set_settings(&mut self, settings: &TonalEqSettings) {
        if *settings == self.settings {
            return;
        }
        self.settings = *settings;
        let (st, m, s) = Self::routing(settings);
        self.stereo.set_settings(&st);
        self.mid.set_settings(&m);
        self.side.set_settings(&s);
    }

    /// Equalises 1 or 2 channels in place (a mono signal has no side: mid-only mode
    /// equalises it, side-only mode leaves it alone).
    pub fn process(&mut self, channels: &mut [&mut [f32]], settings: &TonalEqSettings) {
        self.set_settings(settings);
        let ms_wanted = self.settings.mode != EqMode::Stereo;
        match channels {
            [] => {}
            [mono] => {
                self.stereo
                    .process(&mut [&mut **mono], &self.routing_stereo());
                let m = Self::routing(&self.settings).1;
                self.mid.process(&mut [&mut **mono], &m);
            }
            [left, right, ..] => {
                let frames = left.len().min(right.len());
                let (left, right) = (&mut left[..frames], &mut right[..frames]);
                let st = self.routing_stereo();
                self.stereo.process(&mut [&mut *left, &mut *right], &st);
                if ms_wanted {
                    self.ms_hold = self.ms_hold_frames;
                }
                if self.ms_hold > 0 {
                    let (_, m, s) = Self::routing(&self.settings);
                    for (l, r) in left.iter_mut().zip(right.iter_mut()) {
                        let (mid, side) = (0.5 * (*l + *r), 0.5 * (*l - *r));
                        *l = mid;
                        *r = side;
                    }
                    self.mid.process(&mut [&mut *left], &m);
                    self.side.process(&mut [&mut *right], &s);
                    for (l, r) in left.iter_mut().zip(right.iter_mut()) {
                        let (mid, side) = (*l, *r);
                        *l = mid + side;
                        *r = mid - side;
                    }
                    if !ms_wanted {
                        self.ms_hold = self.ms_hold.saturating_sub(frames);
                    }
                }
            }
        }
    }

    fn routing_stereo(&self) -> EqSettings {
        Self::routing(&self.settings).0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mastering::test_signals::{impulse_response_db, noise};

    const FS: f32 = 48_000.0;

    fn settled(s: &TonalEqSettings) -> TonalEq {
        let mut eq = TonalEq::new(FS);
        eq.set_settings_immediately(s);
        eq
    }

    /// Impulse responses of L and R for an impulse on `(l, r)`.
    fn response(eq: &mut TonalEq, s: &TonalEqSettings, l: f32, r: f32) -> (Vec<f32>, Vec<f32>) {
        let n = 8192;
        let mut a = vec![0.0f32; n];
        let mut b = vec![0.0f32; n];
        a[0] = l;
        b[0] = r;
        for (x, y) in a.chunks_mut(512).zip(b.chunks_mut(512)) {
            eq.process(&mut [x, y], s);
        }
        (a, b)
    }

    #[test]
    fn tilt_is_zero_at_the_pivot_and_plus_minus_tilt_far_away() {
        let s = TonalEqSettings {
            tilt_db: 4.0,
            tilt_freq_hz: 1000.0,
            ..Default::default()
        };
        let fs = FS as f64;
        // Analytic: 0 dB at the pivot (the shelves are at ±2 dB each there, exact by the
        // matched design: 1e-3 dB), −4 dB at 20 Hz and +4 dB at 20 kHz within 0.25 dB
        // (a Q 0.5 shelf has not fully reached its gain 5.6 octaves away).
        assert!(s.magnitude_db(1000.0, fs).abs() < 1e-3);
        assert!((s.magnitude_db(20.0, fs) + 4.0).abs() < 0.25);
        assert!((s.magnitude_db(20_000.0, fs) - 4.0).abs() < 0.25);
        // Measured equals analytic (same biquads; 1e-3 dB covers f32 output rounding).
        let mut eq = settled(&s);
        let (l, r) = response(&mut eq, &s, 1.0, 1.0);
        for f in [30.0, 200.0, 1000.0, 5000.0, 15_000.0] {
            let want = s.magnitude_db(f, fs);
            for h in [&l, &r] {
                let got = impulse_response_db(h, f, fs);
                assert!((got - want).abs() < 1e-3, "{f} Hz: {got} vs {want}");
            }
        }
    }

    #[test]
    fn mid_only_leaves_the_side_alone_and_side_only_the_mid() {
        let s = TonalEqSettings {
            low_gain_db: 6.0,
            mid_gain_db: -4.0,
            high_gain_db: 3.0,
            ..Default::default()
        };
        let fs = FS as f64;
        for mode in [EqMode::MidOnly, EqMode::SideOnly] {
            let s = TonalEqSettings { mode, ..s };
            // A pure side impulse (L = −R) and a pure mid impulse (L = R).
            let mut eq = settled(&s);
            let (sl, sr) = response(&mut eq, &s, 0.5, -0.5);
            let mut eq = settled(&s);
            let (ml, mr) = response(&mut eq, &s, 0.5, 0.5);
            for f in [60.0, 1000.0, 12_000.0] {
                let eq_db = s.magnitude_db(f, fs);
                let (side_db, mid_db) = match mode {
                    EqMode::MidOnly => (0.0, eq_db),
                    _ => (eq_db, 0.0),
                };
                // 1e-3 dB: f32 rounding of the mid/side conversion and the filters.
                for (h, want) in [(&sl, side_db), (&sr, side_db), (&ml, mid_db), (&mr, mid_db)] {
                    let got = impulse_response_db(h, f, fs) - 20.0 * 0.5f64.log10();
                    assert!((got - want).abs() < 1e-3, "{mode:?} {f} Hz {got} vs {want}");
                }
            }
            // The side response stays a side signal (L = −R exactly up to rounding).
            for (a, b) in sl.iter().zip(&sr) {
                assert!((a + b).abs() < 1e-6);
            }
        }
    }

    #[test]
    fn flat_settings_are_bit_exact_and_mode_switch_is_smooth() {
        let x = noise(4800, 0.5, 3);
        let y = noise(4800, 0.5, 4);
        let mut eq = TonalEq::new(FS);
        let s = TonalEqSettings::default();
        let (mut a, mut b) = (x.clone(), y.clone());
        eq.process(&mut [&mut a, &mut b], &s);
        assert_eq!(a, x);
        assert_eq!(b, y);
        // Switching the mode with a 6 dB low shelf: the output never jumps by more than
        // the input itself could plus the ramp (no click): compare to the largest
        // sample step of the input.
        let s2 = TonalEqSettings {
            low_gain_db: 6.0,
            ..s
        };
        let mut eq = settled(&s2);
        let dc = vec![0.25f32; 9600];
        let (mut a, mut b) = (dc.clone(), vec![-0.25f32; 9600]);
        for (n, (l, r)) in a.chunks_mut(480).zip(b.chunks_mut(480)).enumerate() {
            let mode = if n < 10 {
                EqMode::Stereo
            } else {
                EqMode::MidOnly
            };
            eq.process(&mut [l, r], &TonalEqSettings { mode, ..s2 });
        }
        // A pure side DC signal: +6 dB in stereo mode, 0 dB in mid-only mode, with a
        // 20 ms ramp in between (largest step ≪ the 0.25 level change).
        let steps = a
            .windows(2)
            .map(|w| (w[1] - w[0]).abs())
            .fold(0.0f32, f32::max);
        assert!(steps < 0.01, "largest step {steps}");
        assert!((a[4700] - 0.25 * 1.995).abs() < 0.01, "{}", a[4700]);
        assert!((a[9599] - 0.25).abs() < 1e-4, "{}", a[9599]);
    }
}
