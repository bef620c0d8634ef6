//! Audio-thread measurements the editor shows, published through atomics (never a lock).

use std::sync::atomic::Ordering;

use atomic_float::AtomicF32;
use oxide_plugin_common::spectrum::SpectrumTap;

/// The meter floor, dB.
pub const METER_FLOOR_DB: f32 = -100.0;

/// How fast a peak meter falls back, dB per second.
pub const PEAK_FALL_DB_PER_S: f32 = 20.0;

/// The strip's meters. The audio thread writes them only while the editor is open.
#[derive(Debug)]
pub struct Meters {
    /// Input peak, dBFS (held, falling at [`PEAK_FALL_DB_PER_S`]).
    pub input_peak_db: AtomicF32,
    /// Output peak, dBFS.
    pub output_peak_db: AtomicF32,
    /// Gate gain reduction, positive dB (largest in the last block).
    pub gate_gr_db: AtomicF32,
    /// Compressor gain reduction, positive dB (largest in the last block).
    pub comp_gr_db: AtomicF32,
    /// The sample rate the plugin runs at (the editor's EQ curve is drawn for it).
    pub sample_rate: AtomicF32,
    /// The output's latest samples, for the spectrum behind the EQ curve.
    pub spectrum: SpectrumTap,
}

impl Default for Meters {
    fn default() -> Self {
        Self {
            input_peak_db: AtomicF32::new(METER_FLOOR_DB),
            output_peak_db: AtomicF32::new(METER_FLOOR_DB),
            gate_gr_db: AtomicF32::new(0.0),
            comp_gr_db: AtomicF32::new(0.0),
            sample_rate: AtomicF32::new(48_000.0),
            spectrum: SpectrumTap::default(),
        }
    }
}

/// The peak of a block of channels in dBFS (at least [`METER_FLOOR_DB`]).
pub fn peak_db(channels: &[&mut [f32]]) -> f32 {
    let peak = channels
        .iter()
        .flat_map(|c| c.iter())
        .fold(0.0f32, |m, s| m.max(s.abs()));
    if peak > 0.0 {
        (20.0 * peak.log10()).max(METER_FLOOR_DB)
    } else {
        METER_FLOOR_DB
    }
}

impl Meters {
    /// Updates a held peak: the new block's peak, or the old value fallen by
    /// `fall_db`, whichever is higher.
    pub fn hold_peak(meter: &AtomicF32, block_peak_db: f32, fall_db: f32) {
        let held = meter.load(Ordering::Relaxed) - fall_db;
        meter.store(
            block_peak_db.max(held).max(METER_FLOOR_DB),
            Ordering::Relaxed,
        );
    }

    /// Everything back to rest (editor closed, or reset).
    pub fn clear(&self) {
        self.input_peak_db.store(METER_FLOOR_DB, Ordering::Relaxed);
        self.output_peak_db.store(METER_FLOOR_DB, Ordering::Relaxed);
        self.gate_gr_db.store(0.0, Ordering::Relaxed);
        self.comp_gr_db.store(0.0, Ordering::Relaxed);
    }
}
