//! What the streaming services would do to a track's level: the playback gain of their
//! loudness normalisation, from the track's integrated loudness and true peak.
//!
//! Every service measures BS.1770 integrated loudness and plays a track louder than its
//! reference that much quieter. They differ on quieter tracks:
//!
//! - Spotify (default "Normal", −14 LUFS) also raises them, but only as far as leaves
//!   1 dB of true-peak headroom: its own example, a −20 LUFS track peaking at −5 dBTP,
//!   is lifted by 4 dB to −16 LUFS (Spotify for Artists, "Loudness normalization").
//! - Apple Music (Sound Check, −16 LUFS) raises them as far as the peaks allow without
//!   clipping (0 dBTP).
//! - YouTube (−14), Amazon Music (−14), Tidal (−14) and Deezer (−15) only turn loud
//!   tracks down.
//!
//! These are the published defaults; services change them and listeners can switch
//! normalisation off, so the figures are a preview, not a promise.

use super::measured;

/// A streaming service with loudness normalisation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service {
    Spotify,
    AppleMusic,
    YouTube,
    AmazonMusic,
    Tidal,
    Deezer,
}

impl Service {
    /// Every service, in the order they are shown.
    pub const ALL: [Service; 6] = [
        Service::Spotify,
        Service::AppleMusic,
        Service::YouTube,
        Service::AmazonMusic,
        Service::Tidal,
        Service::Deezer,
    ];

    /// The service's name as shown to users.
    pub fn name(self) -> &'static str {
        match self {
            Service::Spotify => "Spotify",
            Service::AppleMusic => "Apple Music",
            Service::YouTube => "YouTube",
            Service::AmazonMusic => "Amazon Music",
            Service::Tidal => "Tidal",
            Service::Deezer => "Deezer",
        }
    }

    /// A lower-case identifier without spaces (for JSON keys).
    pub fn id(self) -> &'static str {
        match self {
            Service::Spotify => "spotify",
            Service::AppleMusic => "apple_music",
            Service::YouTube => "youtube",
            Service::AmazonMusic => "amazon_music",
            Service::Tidal => "tidal",
            Service::Deezer => "deezer",
        }
    }

    /// The integrated loudness the service plays tracks at, LUFS.
    pub fn reference_lufs(self) -> f64 {
        match self {
            Service::Spotify | Service::YouTube | Service::AmazonMusic | Service::Tidal => -14.0,
            Service::AppleMusic => -16.0,
            Service::Deezer => -15.0,
        }
    }

    /// The highest true peak a raised track may reach, dBTP; `None` if the service
    /// never raises quiet tracks.
    pub fn raise_peak_limit_dbtp(self) -> Option<f64> {
        match self {
            Service::Spotify => Some(-1.0),
            Service::AppleMusic => Some(0.0),
            _ => None,
        }
    }

    /// The gain the service applies at playback, dB (negative: turned down), for a
    /// track of `integrated_lufs` and `true_peak_dbtp`; `None` for a track without a
    /// measured loudness (silence, or shorter than the gating block).
    pub fn playback_gain_db(self, integrated_lufs: f64, true_peak_dbtp: f64) -> Option<f64> {
        let loudness = measured(integrated_lufs)?;
        let gain = self.reference_lufs() - loudness;
        if gain <= 0.0 {
            return Some(gain);
        }
        Some(match self.raise_peak_limit_dbtp() {
            None => 0.0,
            // A track without a measured peak has no headroom problem.
            Some(limit) => match measured(true_peak_dbtp) {
                Some(peak) => gain.min((limit - peak).max(0.0)),
                None => gain,
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spotifys_own_example_is_lifted_to_minus_16() {
        // −20 LUFS peaking at −5 dBTP: lifted by 4 dB, to −16 LUFS, not by 6.
        let gain = Service::Spotify.playback_gain_db(-20.0, -5.0).unwrap();
        assert!((gain - 4.0).abs() < 1e-12, "{gain}");
        // With room enough it reaches the reference.
        let gain = Service::Spotify.playback_gain_db(-20.0, -9.0).unwrap();
        assert!((gain - 6.0).abs() < 1e-12, "{gain}");
        // A track already at the headroom limit is not raised at all.
        assert_eq!(Service::Spotify.playback_gain_db(-18.0, 0.0), Some(0.0));
    }

    #[test]
    fn loud_tracks_are_turned_down_everywhere_and_quiet_ones_raised_only_by_some() {
        for service in Service::ALL {
            let down = service.playback_gain_db(-8.0, -0.1).unwrap();
            assert!((down - (service.reference_lufs() + 8.0)).abs() < 1e-12);
            let up = service.playback_gain_db(-30.0, -20.0).unwrap();
            match service.raise_peak_limit_dbtp() {
                Some(_) => assert!((up - (service.reference_lufs() + 30.0)).abs() < 1e-12),
                None => assert_eq!(up, 0.0, "{}", service.name()),
            }
        }
        // Apple Music raises up to 0 dBTP.
        assert_eq!(Service::AppleMusic.playback_gain_db(-22.0, -3.0), Some(3.0));
    }

    #[test]
    fn silence_has_no_playback_gain() {
        for service in Service::ALL {
            assert_eq!(service.playback_gain_db(f64::NEG_INFINITY, -10.0), None);
            assert_eq!(service.playback_gain_db(f64::NAN, -10.0), None);
        }
    }
}
