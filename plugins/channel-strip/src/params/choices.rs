//! The strip's choice parameters (what a DAW lists) and the DSP values they select.

use nice_plug::prelude::Enum;
use shared_dsp::delay::NoteValue;
use shared_dsp::filter::eq::BandKind;
use shared_dsp::filter::Slope;
use shared_dsp::stereo::PanLaw;

/// The compressor's level detector.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum DetectorChoice {
    #[id = "peak"]
    Peak,
    #[id = "rms"]
    #[name = "RMS"]
    Rms,
}

/// The saturation curve.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum SatType {
    #[id = "tape"]
    Tape,
    #[id = "tube"]
    Tube,
}

/// The pan law (level of a centred mono source).
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum PanLawChoice {
    #[id = "0"]
    #[name = "0 dB"]
    ZeroDb,
    #[id = "-3"]
    #[name = "-3 dB"]
    Minus3Db,
    #[id = "-4.5"]
    #[name = "-4.5 dB"]
    Minus4_5Db,
    #[id = "-6"]
    #[name = "-6 dB"]
    Minus6Db,
}

impl PanLawChoice {
    pub(super) fn law(self) -> PanLaw {
        match self {
            PanLawChoice::ZeroDb => PanLaw::ZeroDb,
            PanLawChoice::Minus3Db => PanLaw::Minus3Db,
            PanLawChoice::Minus4_5Db => PanLaw::Minus4_5Db,
            PanLawChoice::Minus6Db => PanLaw::Minus6Db,
        }
    }
}

/// Delay tempo sync: off, or a note value (T = triplet, . = dotted).
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyncChoice {
    #[id = "off"]
    Off,
    #[id = "1/64t"]
    #[name = "1/64T"]
    N64T,
    #[id = "1/64"]
    #[name = "1/64"]
    N64,
    #[id = "1/64d"]
    #[name = "1/64."]
    N64D,
    #[id = "1/32t"]
    #[name = "1/32T"]
    N32T,
    #[id = "1/32"]
    #[name = "1/32"]
    N32,
    #[id = "1/32d"]
    #[name = "1/32."]
    N32D,
    #[id = "1/16t"]
    #[name = "1/16T"]
    N16T,
    #[id = "1/16"]
    #[name = "1/16"]
    N16,
    #[id = "1/16d"]
    #[name = "1/16."]
    N16D,
    #[id = "1/8t"]
    #[name = "1/8T"]
    N8T,
    #[id = "1/8"]
    #[name = "1/8"]
    N8,
    #[id = "1/8d"]
    #[name = "1/8."]
    N8D,
    #[id = "1/4t"]
    #[name = "1/4T"]
    N4T,
    #[id = "1/4"]
    #[name = "1/4"]
    N4,
    #[id = "1/4d"]
    #[name = "1/4."]
    N4D,
    #[id = "1/2t"]
    #[name = "1/2T"]
    N2T,
    #[id = "1/2"]
    #[name = "1/2"]
    N2,
    #[id = "1/2d"]
    #[name = "1/2."]
    N2D,
    #[id = "1/1t"]
    #[name = "1/1T"]
    N1T,
    #[id = "1/1"]
    #[name = "1/1"]
    N1,
    #[id = "1/1d"]
    #[name = "1/1."]
    N1D,
}

impl SyncChoice {
    /// The note value, in [`NoteValue::ALL`]'s order (which this enum follows).
    pub(super) fn note(self) -> Option<NoteValue> {
        match self {
            SyncChoice::Off => None,
            other => NoteValue::ALL.get(other.to_index() - 1).copied(),
        }
    }
}

/// A high- or low-pass slope, as the DAW lists it.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum SlopeChoice {
    #[id = "6"]
    #[name = "6 dB/oct"]
    Db6,
    #[id = "12"]
    #[name = "12 dB/oct"]
    Db12,
    #[id = "18"]
    #[name = "18 dB/oct"]
    Db18,
    #[id = "24"]
    #[name = "24 dB/oct"]
    Db24,
    #[id = "36"]
    #[name = "36 dB/oct"]
    Db36,
    #[id = "48"]
    #[name = "48 dB/oct"]
    Db48,
}

impl SlopeChoice {
    pub(super) fn slope(self) -> Slope {
        match self {
            SlopeChoice::Db6 => Slope::Db6,
            SlopeChoice::Db12 => Slope::Db12,
            SlopeChoice::Db18 => Slope::Db18,
            SlopeChoice::Db24 => Slope::Db24,
            SlopeChoice::Db36 => Slope::Db36,
            SlopeChoice::Db48 => Slope::Db48,
        }
    }
}

/// An EQ band's shape.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum BandType {
    #[id = "bell"]
    Bell,
    #[id = "low_shelf"]
    #[name = "Low Shelf"]
    LowShelf,
    #[id = "high_shelf"]
    #[name = "High Shelf"]
    HighShelf,
}

impl BandType {
    pub(super) fn kind(self) -> BandKind {
        match self {
            BandType::Bell => BandKind::Bell,
            BandType::LowShelf => BandKind::LowShelf,
            BandType::HighShelf => BandKind::HighShelf,
        }
    }
}
