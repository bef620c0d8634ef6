//! The strip parameters' tests: ids, defaults, text round trips, pages.

use super::*;
use shared_dsp::delay::NoteValue;

#[test]
fn remote_control_pages_hold_every_parameter_once() {
    use oxide_plugin_common::remote_controls::{page_problems, PageCollector};
    let params = StripParams::default();
    let mut pages = PageCollector::default();
    params.remote_control_pages(&mut pages);
    let problems = page_problems(&params, &pages, &[params.bypass.name()]);
    assert!(problems.is_empty(), "{problems:#?}");
    assert_eq!(pages.pages.len(), 12);
}

#[test]
fn every_displayed_value_reads_back() {
    let failures =
        oxide_plugin_common::param_access::text_round_trip_failures(&StripParams::default());
    assert!(failures.is_empty(), "{failures:#?}");
}

#[test]
fn defaults_map_to_default_settings() {
    assert_eq!(StripParams::default().settings(), Settings::default());
}

#[test]
fn ids_are_the_frozen_ones() {
    let params = StripParams::default();
    let ids: Vec<String> = params
        .param_map()
        .into_iter()
        .map(|(id, _, _)| id)
        .collect();
    for id in [
        "hpf_on",
        "hpf_freq",
        "hpf_slope",
        "lpf_on",
        "lpf_freq",
        "lpf_slope",
        "eq_on",
        "eq1_on",
        "eq1_type",
        "eq1_freq",
        "eq1_gain",
        "eq1_q",
        "eq6_q",
        "dyn_pre_eq",
        "gate_on",
        "gate_thresh",
        "gate_range",
        "gate_ratio",
        "gate_attack",
        "gate_hold",
        "gate_release",
        "gate_hyst",
        "gate_key_hpf",
        "gate_key_lpf",
        "comp_on",
        "comp_thresh",
        "comp_ratio",
        "comp_knee",
        "comp_attack",
        "comp_release",
        "comp_auto_release",
        "comp_detector",
        "comp_sc_hpf",
        "comp_sc_ext",
        "comp_link",
        "comp_makeup",
        "comp_auto_makeup",
        "comp_mix",
        "sat_on",
        "sat_drive",
        "sat_type",
        "sat_mix",
        "dly_on",
        "dly_time",
        "dly_sync",
        "dly_feedback",
        "dly_hpf",
        "dly_lpf",
        "dly_pingpong",
        "dly_mix",
        "rev_on",
        "rev_size",
        "rev_decay",
        "rev_predelay",
        "rev_damp",
        "rev_width",
        "rev_mix",
        "pan",
        "pan_law",
        "width",
        "out_gain",
        "in_gain",
        "phase_l",
        "phase_r",
    ] {
        assert!(ids.iter().any(|i| i == id), "{id} missing from {ids:?}");
    }
}

#[test]
fn off_ends_and_ratio_tops_map_to_off_and_infinity() {
    let params = StripParams::default();
    let s = params.settings();
    assert_eq!(s.gate.ratio, f32::INFINITY);
    assert_eq!(s.gate.key_hpf_hz, None);
    assert_eq!(s.gate.key_lpf_hz, None);
    assert_eq!(s.comp.sidechain_hpf_hz, None);
    assert_eq!(params.gate_ratio.to_string(), "Gate");
    // The off end reads "Off", not "Off Hz" (a host appends the unit to every value).
    assert_eq!(params.gate_key_hpf.to_string(), "Off");
    assert_eq!(params.comp_sc_hpf.to_string(), "Off");
    assert_eq!(params.gate_key_lpf.to_string(), "Off");
    let sync = params.dly_sync.string_to_normalized_value("1/4").unwrap();
    assert_eq!(
        SyncChoice::from_index(params.dly_sync.preview_plain(sync) as usize).note(),
        Some(NoteValue::Quarter)
    );
}

#[test]
fn fader_floor_is_silence() {
    let params = StripParams::default();
    assert_eq!(params.out_gain.range().unnormalize(0.0), FADER_FLOOR_DB);
    assert_eq!(fader_db(FADER_FLOOR_DB), MINUS_INFINITY_DB);
    assert_eq!(fader_db(-79.99), -79.99);
    // The unity point sits high on the fader, as on a console.
    let unity = params.out_gain.range().normalize(0.0);
    assert!((0.65..0.8).contains(&unity), "{unity}");
    // Only the fader shows its floor as -inf; the trim's floor is a plain -24 dB.
    assert_eq!(params.out_gain.to_string(), "0.00 dB");
    let fader_floor = params.out_gain.normalized_value_to_string(0.0, false);
    let trim_floor = params.in_gain.normalized_value_to_string(0.0, false);
    assert_eq!(fader_floor, "-inf");
    assert_eq!(trim_floor, "-24.00");
}
