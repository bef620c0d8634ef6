//! A spectrum analyser for the editors.
//!
//! The audio thread copies the mono sum of its output into a lock-free ring
//! ([`SpectrumTap`], in `shared-dsp`: framework-free, so a chain can feed it).
//! The editor reads the latest [`FFT_SIZE`] samples, windows them (Hann), transforms
//! them with `realfft` and draws the level per frequency on a logarithmic axis
//! ([`SpectrumView`]), falling back at [`FALL_DB_PER_SECOND`] so peaks stay readable.
//! Levels are in dBFS of a sine: a full-scale sine reads 0 dB at its frequency (to the
//! Hann window's scalloping, at most 1.42 dB between bins).

use std::sync::Arc;

use egui::{Align2, Color32, FontId, Painter, Pos2, Rect, Sense, Shape, Stroke, Ui, Vec2};
use realfft::num_complex::Complex;
use realfft::{RealFftPlanner, RealToComplex};
use shared_dsp::db::gain_to_db;
pub use shared_dsp::spectrum_tap::{SpectrumTap, FFT_SIZE};

/// How fast a displayed level falls when the signal drops, dB per second.
pub const FALL_DB_PER_SECOND: f32 = 40.0;
/// The displayed range, dBFS.
const FLOOR_DB: f32 = -96.0;
const TOP_DB: f32 = 0.0;
/// The displayed frequency range, Hz.
const LOW_HZ: f32 = 20.0;
const HIGH_HZ: f32 = 20_000.0;

const CURVE: Color32 = Color32::from_rgb(120, 200, 140);

/// The editor side: the analysis and its smoothed display (GUI thread only).
pub struct SpectrumView {
    fft: Arc<dyn RealToComplex<f32>>,
    window: Vec<f32>,
    /// 2 / Σ window: turns a bin's magnitude into the amplitude of a sine.
    scale: f32,
    input: Vec<f32>,
    output: Vec<Complex<f32>>,
    scratch: Vec<Complex<f32>>,
    /// The displayed level per bin, dBFS.
    shown_db: Vec<f32>,
    last_time: Option<f64>,
    /// The tap's sample count at the last analysis: no new samples, no new analysis.
    last_written: Option<usize>,
    /// The latest samples and their levels (kept to spare a frame its allocations).
    samples: Vec<f32>,
    levels: Vec<f32>,
}

impl Default for SpectrumView {
    fn default() -> Self {
        let fft = RealFftPlanner::<f32>::new().plan_fft_forward(FFT_SIZE);
        let window: Vec<f32> = (0..FFT_SIZE)
            .map(|n| {
                let phase = std::f32::consts::TAU * n as f32 / FFT_SIZE as f32;
                0.5 - 0.5 * phase.cos()
            })
            .collect();
        let scale = 2.0 / window.iter().sum::<f32>();
        Self {
            input: fft.make_input_vec(),
            output: fft.make_output_vec(),
            scratch: fft.make_scratch_vec(),
            shown_db: vec![FLOOR_DB; FFT_SIZE / 2 + 1],
            last_written: None,
            samples: vec![0.0; FFT_SIZE],
            levels: vec![FLOOR_DB; FFT_SIZE / 2 + 1],
            fft,
            window,
            scale,
            last_time: None,
        }
    }
}

impl SpectrumView {
    /// The level of each bin of `samples` (the first [`FFT_SIZE`]), dBFS of a sine.
    pub fn analyse(&mut self, samples: &[f32]) -> Vec<f32> {
        let mut levels = vec![FLOOR_DB; self.output.len()];
        self.analyse_into(samples, &mut levels);
        levels
    }

    /// [`Self::analyse`] into `levels` (one per bin).
    fn analyse_into(&mut self, samples: &[f32], levels: &mut [f32]) {
        for ((x, &s), &w) in self.input.iter_mut().zip(samples).zip(&self.window) {
            *x = s * w;
        }
        let transformed =
            self.fft
                .process_with_scratch(&mut self.input, &mut self.output, &mut self.scratch);
        if transformed.is_err() {
            levels.fill(FLOOR_DB);
            return;
        }
        for (level, c) in levels.iter_mut().zip(&self.output) {
            *level = gain_to_db(c.norm() * self.scale).max(FLOOR_DB);
        }
    }

    /// Takes in the tap's latest samples at `time` (seconds, the GUI clock): levels
    /// rise at once and fall at [`FALL_DB_PER_SECOND`]. The analysis runs only when the
    /// tap has new samples (the audio thread writes it only while an editor is open);
    /// with none, the display just falls.
    pub fn update(&mut self, tap: &SpectrumTap, time: f64) {
        let elapsed = match self.last_time {
            Some(last) if time >= last => (time - last) as f32,
            _ => 0.0,
        };
        self.last_time = Some(time);
        let fall = FALL_DB_PER_SECOND * elapsed.min(1.0);
        let written = tap.written();
        if self.last_written == Some(written) {
            for shown in &mut self.shown_db {
                *shown = (*shown - fall).max(FLOOR_DB);
            }
            return;
        }
        self.last_written = Some(written);
        let mut samples = std::mem::take(&mut self.samples);
        let mut levels = std::mem::take(&mut self.levels);
        tap.latest(&mut samples);
        self.analyse_into(&samples, &mut levels);
        for (shown, &level) in self.shown_db.iter_mut().zip(&levels) {
            *shown = level.max(*shown - fall);
        }
        self.samples = samples;
        self.levels = levels;
    }

    /// Whether the display is at rest (everything at the floor): nothing left to fall.
    pub fn settled(&self) -> bool {
        self.shown_db.iter().all(|&db| db <= FLOOR_DB)
    }

    /// Draws the displayed levels, 20 Hz – 20 kHz on a log axis, −96 – 0 dBFS.
    pub fn show(&self, ui: &mut Ui, sample_rate: f32, height: f32) {
        let width = ui.available_width();
        let (rect, _) = ui.allocate_exact_size(Vec2::new(width, height), Sense::hover());
        let painter = ui.painter_at(rect);
        painter.rect_filled(rect, 2.0, Color32::from_gray(24));
        let (x_of, y_of) = (|hz| x_of(rect, hz), |db| y_of(rect, db));
        let grid = Stroke::new(1.0, Color32::from_gray(45));
        for (hz, label) in [(100.0, "100"), (1000.0, "1k"), (10_000.0, "10k")] {
            let x = x_of(hz);
            painter.line_segment(
                [Pos2::new(x, rect.top()), Pos2::new(x, rect.bottom())],
                grid,
            );
            painter.text(
                Pos2::new(x + 2.0, rect.bottom() - 2.0),
                Align2::LEFT_BOTTOM,
                label,
                FontId::proportional(10.0),
                Color32::from_gray(110),
            );
        }
        for db in [-24.0, -48.0, -72.0] {
            let y = y_of(db);
            painter.line_segment(
                [Pos2::new(rect.left(), y), Pos2::new(rect.right(), y)],
                grid,
            );
        }
        self.paint_curve(&painter, rect, sample_rate, CURVE);
    }

    /// Draws only the curve, over `rect` with the same axes as [`Self::show`] (for an
    /// overlay, such as behind an EQ curve spanning 20 Hz – 20 kHz).
    pub fn paint_curve(&self, painter: &Painter, rect: Rect, sample_rate: f32, colour: Color32) {
        if self.shown_db.iter().all(|&db| db <= FLOOR_DB) {
            return; // silence, or nothing heard yet: no line along the floor
        }
        let points = curve_points(&self.shown_db, sample_rate, rect);
        painter.add(Shape::line(points, Stroke::new(1.5, colour)));
    }
}

/// Where `hz` lies across `rect` (20 Hz – 20 kHz, logarithmic).
fn x_of(rect: Rect, hz: f32) -> f32 {
    let t = (hz / LOW_HZ).ln() / (HIGH_HZ / LOW_HZ).ln();
    rect.left() + t * rect.width()
}

/// Where `db` lies down `rect` (0 dBFS at the top, the floor at the bottom).
fn y_of(rect: Rect, db: f32) -> f32 {
    let t = (TOP_DB - db.clamp(FLOOR_DB, TOP_DB)) / (TOP_DB - FLOOR_DB);
    rect.top() + t * rect.height()
}

/// The curve's points: one per bin where bins are wider than a pixel, the loudest bin
/// per pixel column where they are narrower (so a peak is never thinned away).
fn curve_points(levels_db: &[f32], sample_rate: f32, rect: Rect) -> Vec<Pos2> {
    let bin_hz = sample_rate / FFT_SIZE as f32;
    let mut points: Vec<Pos2> = Vec::with_capacity(levels_db.len());
    for (k, &db) in levels_db.iter().enumerate().skip(1) {
        let hz = k as f32 * bin_hz;
        if !(LOW_HZ..=HIGH_HZ).contains(&hz) {
            continue;
        }
        let x = x_of(rect, hz).clamp(rect.left(), rect.right());
        let y = y_of(rect, db);
        match points.last_mut() {
            Some(last) if x - last.x < 1.0 => last.y = last.y.min(y),
            _ => points.push(Pos2::new(x, y)),
        }
    }
    points
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_scale_sine_reads_zero_db_at_its_frequency() {
        let mut view = SpectrumView::default();
        let fs = 48_000.0;
        for (freq, amplitude_db) in [(1000.0f32, 0.0f32), (5000.0, -20.0)] {
            let amplitude = 10f32.powf(amplitude_db / 20.0);
            let samples: Vec<f32> = (0..FFT_SIZE)
                .map(|n| amplitude * (std::f32::consts::TAU * freq * n as f32 / fs).sin())
                .collect();
            let levels = view.analyse(&samples);
            let (peak_bin, &peak_db) = levels
                .iter()
                .enumerate()
                .max_by(|a, b| a.1.total_cmp(b.1))
                .unwrap();
            let bin_hz = fs / FFT_SIZE as f32;
            // The loudest bin is one of the two around the tone.
            assert!(
                (peak_bin as f32 * bin_hz - freq).abs() <= bin_hz,
                "{peak_bin}"
            );
            // Hann scalloping is at most 1.42 dB between bins.
            assert!(
                peak_db <= amplitude_db + 0.01 && peak_db >= amplitude_db - 1.43,
                "{freq} Hz: {peak_db} dB"
            );
            // Far from the tone the Hann window's leakage is 90 dB down (or at the
            // display's floor).
            let far = (freq * 2.5 / bin_hz) as usize;
            assert!(
                levels[far] <= (amplitude_db - 90.0).max(FLOOR_DB),
                "{}",
                levels[far]
            );
        }
    }

    #[test]
    fn levels_rise_at_once_and_fall_slowly() {
        let tap = SpectrumTap::default();
        let mut view = SpectrumView::default();
        let tone: Vec<f32> = (0..FFT_SIZE)
            .map(|n| (std::f32::consts::TAU * 1000.0 * n as f32 / 48_000.0).sin())
            .collect();
        tap.push(&tone, None);
        view.update(&tap, 0.0);
        let bin = (1000.0 / (48_000.0 / FFT_SIZE as f32)).round() as usize;
        let loud = view.shown_db[bin];
        assert!(loud > -2.0, "{loud}");
        // Silence for half a second: the display falls by 20 dB, not to the floor.
        tap.push(&vec![0.0; FFT_SIZE], None);
        view.update(&tap, 0.5);
        let fallen = view.shown_db[bin];
        assert!(
            (loud - fallen - 0.5 * FALL_DB_PER_SECOND).abs() < 1e-3,
            "{fallen}"
        );
    }

    #[test]
    fn with_no_new_samples_the_display_falls_to_rest() {
        let tap = SpectrumTap::default();
        let mut view = SpectrumView::default();
        let tone: Vec<f32> = (0..FFT_SIZE)
            .map(|n| (std::f32::consts::TAU * 1000.0 * n as f32 / 48_000.0).sin())
            .collect();
        tap.push(&tone, None);
        view.update(&tap, 0.0);
        let bin = (1000.0 / (48_000.0 / FFT_SIZE as f32)).round() as usize;
        let loud = view.shown_db[bin];
        assert!(!view.settled());
        // The audio stopped (the tap holds the same tone): the display falls anyway…
        view.update(&tap, 0.25);
        assert!((loud - view.shown_db[bin] - 0.25 * FALL_DB_PER_SECOND).abs() < 1e-3);
        // …and comes to rest at the floor, where the editor stops redrawing for it.
        for step in 1..=10 {
            view.update(&tap, 0.25 + step as f64);
        }
        assert!(view.settled());
    }
}
