//! Audio-thread measurements the editor shows, published through atomics (never a lock).
//! The measuring itself (peaks, the spectrum's ring) is `shared-dsp`'s.

use std::sync::atomic::{AtomicBool, Ordering};

use atomic_float::AtomicF32;
use oxide_plugin_common::editor::RepaintNotifier;
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
    /// The compressor key's peak, dBFS (held like the peaks): the moving dot on the
    /// editor's transfer curve.
    pub comp_level_db: AtomicF32,
    /// Whether the gate is open (the editor's light).
    pub gate_open: AtomicBool,
    /// Asks the open editor for a frame (a flag the editor's window polls at its frame
    /// rate; realtime-safe): set while the meters move, so a silent, idle strip costs
    /// no redraws.
    pub repaint: RepaintNotifier,
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
            comp_level_db: AtomicF32::new(METER_FLOOR_DB),
            gate_open: AtomicBool::new(false),
            repaint: RepaintNotifier::new(),
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
        self.comp_level_db.store(METER_FLOOR_DB, Ordering::Relaxed);
        self.gate_open.store(false, Ordering::Relaxed);
        self.repaint.request_repaint();
    }

    /// Whether any meter is off its rest position (the editor has something to show
    /// moving).
    pub fn moving(&self) -> bool {
        let load = |meter: &AtomicF32| meter.load(Ordering::Relaxed);
        load(&self.input_peak_db) > METER_FLOOR_DB
            || load(&self.output_peak_db) > METER_FLOOR_DB
            || load(&self.comp_level_db) > METER_FLOOR_DB
            || load(&self.gate_gr_db) > 0.0
            || load(&self.comp_gr_db) > 0.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn meters_at_rest_ask_for_no_frames() {
        let meters = Meters::default();
        assert!(!meters.moving());
        Meters::hold_peak(&meters.input_peak_db, -10.0, 1.0);
        assert!(meters.moving());
        meters.clear();
        assert!(!meters.moving());
        meters.comp_gr_db.store(0.5, Ordering::Relaxed);
        assert!(meters.moving());
    }
}
