//! Audio-thread measurements the editor shows, published through atomics (never a lock).
//! The measuring itself (peaks, the spectrum's ring) is `shared-dsp`'s.

use std::sync::atomic::Ordering;

use atomic_float::AtomicF32;
use shared_dsp::peak_meter::held_peak_db;
pub use shared_dsp::peak_meter::PEAK_FLOOR_DB as METER_FLOOR_DB;
use shared_dsp::spectrum_tap::SpectrumTap;

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

impl Meters {
    /// Updates a held peak meter with a block's peak, falling by `fall_db`
    /// ([`held_peak_db`]).
    pub fn hold_peak(meter: &AtomicF32, block_peak_db: f32, fall_db: f32) {
        let held = held_peak_db(meter.load(Ordering::Relaxed), block_peak_db, fall_db);
        meter.store(held, Ordering::Relaxed);
    }

    /// Everything back to rest (editor closed, or reset).
    pub fn clear(&self) {
        self.input_peak_db.store(METER_FLOOR_DB, Ordering::Relaxed);
        self.output_peak_db.store(METER_FLOOR_DB, Ordering::Relaxed);
        self.gate_gr_db.store(0.0, Ordering::Relaxed);
        self.comp_gr_db.store(0.0, Ordering::Relaxed);
    }
}
