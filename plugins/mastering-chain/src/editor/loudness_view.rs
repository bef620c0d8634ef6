//! The mastering editor's loudness history: the output's short-term and momentary
//! loudness over the last [`HISTORY_SECONDS`], against the target, so an engineer sees
//! where a song sits and how it moves (the way Ozone's and Pro-L's loudness graphs do).
//!
//! The GUI samples the chain's published reading [`SAMPLES_PER_SECOND`] times a second
//! into its own fixed-size history; the audio thread does nothing extra for it.

use std::collections::VecDeque;

use egui::{Align2, Color32, FontId, Pos2, Rect, Sense, Shape, Stroke, Ui, Vec2};
use shared_dsp::loudness::measured;

/// How much history the view keeps, seconds.
pub const HISTORY_SECONDS: f64 = 30.0;
/// How often the history is sampled, per second.
pub const SAMPLES_PER_SECOND: f64 = 10.0;
const CAPACITY: usize = (HISTORY_SECONDS * SAMPLES_PER_SECOND) as usize;
/// The view's loudness span below and above the target, LU.
const BELOW_TARGET_LU: f64 = 24.0;
const ABOVE_TARGET_LU: f64 = 6.0;

const SHORT_TERM: Color32 = Color32::from_rgb(90, 190, 240);
const MOMENTARY: Color32 = Color32::from_gray(120);
const TARGET: Color32 = Color32::from_rgb(240, 170, 60);

/// One sample of the history: momentary and short-term loudness, LUFS (`None` while
/// not measured: silence, or a fresh meter).
#[derive(Clone, Copy, Debug, PartialEq)]
struct Sample {
    momentary: Option<f64>,
    short_term: Option<f64>,
}

/// The loudness history and when it was last sampled (GUI thread only).
pub struct LoudnessHistory {
    samples: VecDeque<Sample>,
    last_sample_time: Option<f64>,
}

impl Default for LoudnessHistory {
    fn default() -> Self {
        Self {
            samples: VecDeque::with_capacity(CAPACITY),
            last_sample_time: None,
        }
    }
}

impl LoudnessHistory {
    /// Records a reading at `time` seconds (the GUI's clock) if a sampling period has
    /// passed since the last one; the oldest sample falls off once the history is full.
    pub fn record(&mut self, time: f64, momentary_lufs: f64, short_term_lufs: f64) {
        let period = 1.0 / SAMPLES_PER_SECOND;
        match self.last_sample_time {
            Some(last) if time - last < period && time >= last => return,
            _ => {}
        }
        self.last_sample_time = Some(time);
        if self.samples.len() == CAPACITY {
            self.samples.pop_front();
        }
        self.samples.push_back(Sample {
            momentary: measured(momentary_lufs),
            short_term: measured(short_term_lufs),
        });
    }

    /// Empties the history (when the meter is reset, or playback restarts).
    pub fn clear(&mut self) {
        self.samples.clear();
        self.last_sample_time = None;
    }

    pub fn len(&self) -> usize {
        self.samples.len()
    }

    pub fn is_empty(&self) -> bool {
        self.samples.is_empty()
    }

    /// Draws the history, `height` tall and as wide as the panel, with the target line.
    pub fn show(&self, ui: &mut Ui, target_lufs: f64, height: f32) {
        let width = ui.available_width().max(120.0);
        let (rect, _) = ui.allocate_exact_size(Vec2::new(width, height), Sense::hover());
        let axes = Axes { rect, target_lufs };
        let painter = ui.painter_at(rect);
        painter.rect_filled(rect, 2.0, Color32::from_gray(24));
        let grid = Stroke::new(1.0, Color32::from_gray(60));
        // Lines every 6 LU from the bottom edge; the top edge (target + 6) has none.
        let mut lu = -BELOW_TARGET_LU;
        while lu < ABOVE_TARGET_LU {
            let y = axes.y_of(target_lufs + lu);
            let stroke = if lu == 0.0 {
                Stroke::new(1.5, TARGET)
            } else {
                grid
            };
            painter.line_segment(
                [Pos2::new(rect.left(), y), Pos2::new(rect.right(), y)],
                stroke,
            );
            painter.text(
                Pos2::new(rect.left() + 2.0, y - 1.0),
                Align2::LEFT_BOTTOM,
                format!("{:.0}", target_lufs + lu),
                FontId::proportional(10.0),
                if lu == 0.0 {
                    TARGET
                } else {
                    Color32::from_gray(120)
                },
            );
            lu += 6.0;
        }
        for (pick, stroke) in [
            (
                (|s: &Sample| s.momentary) as fn(&Sample) -> Option<f64>,
                Stroke::new(1.0, MOMENTARY),
            ),
            (|s: &Sample| s.short_term, Stroke::new(2.0, SHORT_TERM)),
        ] {
            for run in axes.runs(&self.samples, pick) {
                painter.add(Shape::line(run, stroke));
            }
        }
        painter.text(
            Pos2::new(rect.right() - 4.0, rect.top() + 2.0),
            Align2::RIGHT_TOP,
            format!("short-term (blue), momentary (grey), last {HISTORY_SECONDS:.0} s"),
            FontId::proportional(10.0),
            Color32::from_gray(140),
        );
    }
}

/// Time runs right to left from "now" at the right edge; loudness is linear in LU.
struct Axes {
    rect: Rect,
    target_lufs: f64,
}

impl Axes {
    fn y_of(&self, lufs: f64) -> f32 {
        let top = self.target_lufs + ABOVE_TARGET_LU;
        let t = ((top - lufs) / (ABOVE_TARGET_LU + BELOW_TARGET_LU)).clamp(0.0, 1.0);
        self.rect.top() + t as f32 * self.rect.height()
    }

    /// The x of the sample `age` periods before the newest.
    fn x_of(&self, age: usize) -> f32 {
        self.rect.right() - self.rect.width() * age as f32 / (CAPACITY - 1) as f32
    }

    /// The polylines of one series: consecutive measured samples, broken where a sample
    /// has no reading.
    fn runs(&self, samples: &VecDeque<Sample>, pick: fn(&Sample) -> Option<f64>) -> Vec<Vec<Pos2>> {
        let newest = samples.len().saturating_sub(1);
        let mut runs = vec![Vec::new()];
        for (index, sample) in samples.iter().enumerate() {
            match pick(sample) {
                Some(lufs) => runs
                    .last_mut()
                    .expect("runs starts non-empty")
                    .push(Pos2::new(self.x_of(newest - index), self.y_of(lufs))),
                None if runs.last().is_some_and(|run| !run.is_empty()) => runs.push(Vec::new()),
                None => {}
            }
        }
        runs.retain(|run| run.len() >= 2);
        runs
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared_dsp::loudness::NO_LEVEL;

    #[test]
    fn samples_at_its_rate_and_keeps_its_window() {
        let mut history = LoudnessHistory::default();
        // 60 s of GUI frames at 60 fps: 10 samples a second, the last 30 s kept.
        for frame in 0..3600 {
            history.record(frame as f64 / 60.0, -20.0, -18.0);
        }
        assert_eq!(history.len(), CAPACITY);
        // A clock that jumps back (a host restarting the GUI) samples again at once.
        let before = history.samples.back().copied();
        history.record(0.0, -10.0, -9.0);
        assert_ne!(history.samples.back().copied(), before);
        history.clear();
        assert!(history.is_empty());
    }

    #[test]
    fn unmeasured_samples_break_the_line_and_levels_map_to_the_view() {
        let axes = Axes {
            rect: Rect::from_min_size(Pos2::ZERO, Vec2::new(300.0, 120.0)),
            target_lufs: -14.0,
        };
        assert_eq!(axes.y_of(-14.0 + ABOVE_TARGET_LU), 0.0);
        assert_eq!(axes.y_of(-14.0 - BELOW_TARGET_LU), 120.0);
        assert_eq!(axes.y_of(-100.0), 120.0);
        assert_eq!(axes.x_of(0), 300.0);
        let mut history = LoudnessHistory::default();
        for (i, st) in [-15.0, -14.0, NO_LEVEL, NO_LEVEL, -13.0, -12.0, -11.0]
            .into_iter()
            .enumerate()
        {
            history.record(i as f64, -20.0, st);
        }
        let runs = axes.runs(&history.samples, |s| s.short_term);
        assert_eq!(runs.len(), 2);
        assert_eq!(runs[0].len(), 2);
        assert_eq!(runs[1].len(), 3);
        // The newest sample sits at the right edge.
        assert_eq!(runs[1][2].x, 300.0);
        assert_eq!(runs[1][2].y, axes.y_of(-11.0));
    }
}
