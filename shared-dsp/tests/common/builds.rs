//! Runs a whole render with the wide builds and again with the portable ones, and asserts
//! the same bits (`shared_dsp::cpu`'s reproducibility rule). Shared by the chains' tests
//! (`#[path]` module); switching the builds off is process-wide, so each caller is its own
//! test binary.

use shared_dsp::cpu;

/// Renders with the wide builds, then with the portable ones, and compares every sample
/// of every channel bit for bit.
pub fn assert_builds_render_the_same_bits(mut render: impl FnMut() -> Vec<Vec<f32>>) {
    let wide = render();
    cpu::set_wide_builds(false);
    let portable = render();
    cpu::set_wide_builds(true);
    assert_eq!(wide.len(), portable.len());
    for (c, (w, p)) in wide.iter().zip(&portable).enumerate() {
        let first = w.iter().zip(p).position(|(a, b)| a.to_bits() != b.to_bits());
        assert_eq!(first, None, "channel {c}: the builds differ from frame {first:?}");
    }
}
