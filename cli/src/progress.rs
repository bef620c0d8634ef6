//! Progress bars for long work: on a terminal only (never in a pipe, a log or beside
//! `--json`), and only for files long enough to be worth one.

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressFinish, ProgressStyle};

/// Audio shorter than this runs without a bar (it is done before one would help).
const MIN_SECONDS: f64 = 30.0;

/// A bar over `frames` frames of audio at `sample_rate`, labelled `message`; `None`
/// when `wanted` is false, stderr is not a terminal or the audio is short.
pub fn bar(frames: u64, sample_rate: u32, message: String, wanted: bool) -> Option<ProgressBar> {
    let seconds = frames as f64 / sample_rate.max(1) as f64;
    if !wanted || seconds < MIN_SECONDS || !std::io::stderr().is_terminal() {
        return None;
    }
    // Cleared when dropped, so an error message is not printed under a stale bar.
    let bar = ProgressBar::new(frames).with_finish(ProgressFinish::AndClear);
    bar.set_style(
        ProgressStyle::with_template("{msg} [{bar:40}] {percent:>3}% {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    bar.set_message(message);
    Some(bar)
}
