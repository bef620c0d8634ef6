//! The strip's CLAP remote-control pages: eight knobs each, in signal order.

use nice_plug::prelude::*;

use super::StripParams;

impl StripParams {
    /// The CLAP remote-control pages: eight knobs each, in signal order.
    pub fn remote_control_pages(&self, context: &mut impl RemoteControlsContext) {
        context.add_section("Channel", |section| {
            section.add_page("Input / Output", |page| {
                page.add_param(&self.in_gain);
                page.add_param(&self.phase_l);
                page.add_param(&self.phase_r);
                page.add_param(&self.pan);
                page.add_param(&self.pan_law);
                page.add_param(&self.width);
                page.add_spacer();
                page.add_param(&self.out_gain);
            });
            section.add_page("Filters", |page| {
                page.add_param(&self.hpf_on);
                page.add_param(&self.hpf_freq);
                page.add_param(&self.hpf_slope);
                page.add_spacer();
                page.add_param(&self.lpf_on);
                page.add_param(&self.lpf_freq);
                page.add_param(&self.lpf_slope);
            });
        });
        context.add_section("EQ", |section| {
            let bands = self.bands();
            for (pair, bands) in bands.chunks(2).enumerate() {
                let first = 2 * pair + 1;
                section.add_page(format!("Bands {first}-{}", first + 1), |page| {
                    for band in bands {
                        page.add_param(&band.on);
                        page.add_param(&band.freq);
                        page.add_param(&band.gain);
                        page.add_param(&band.q);
                    }
                });
            }
            section.add_page("Band types", |page| {
                page.add_param(&self.eq_on);
                for band in bands {
                    page.add_param(&band.kind);
                }
            });
        });
        context.add_section("Dynamics", |section| {
            section.add_page("Gate", |page| {
                page.add_param(&self.gate_on);
                page.add_param(&self.gate_thresh);
                page.add_param(&self.gate_range);
                page.add_param(&self.gate_ratio);
                page.add_param(&self.gate_attack);
                page.add_param(&self.gate_hold);
                page.add_param(&self.gate_release);
                page.add_param(&self.gate_hyst);
            });
            section.add_page("Compressor", |page| {
                page.add_param(&self.comp_on);
                page.add_param(&self.comp_thresh);
                page.add_param(&self.comp_ratio);
                page.add_param(&self.comp_knee);
                page.add_param(&self.comp_attack);
                page.add_param(&self.comp_release);
                page.add_param(&self.comp_makeup);
                page.add_param(&self.comp_mix);
            });
            section.add_page("Detector and keys", |page| {
                page.add_param(&self.comp_auto_release);
                page.add_param(&self.comp_detector);
                page.add_param(&self.comp_sc_hpf);
                page.add_param(&self.comp_sc_ext);
                page.add_param(&self.comp_link);
                page.add_param(&self.comp_auto_makeup);
                page.add_param(&self.gate_key_hpf);
                page.add_param(&self.gate_key_lpf);
            });
        });
        context.add_section("Colour and space", |section| {
            section.add_page("Saturation and order", |page| {
                page.add_param(&self.sat_on);
                page.add_param(&self.sat_drive);
                page.add_param(&self.sat_type);
                page.add_param(&self.sat_mix);
                page.add_param(&self.dyn_pre_eq);
            });
            section.add_page("Delay", |page| {
                page.add_param(&self.dly_on);
                page.add_param(&self.dly_time);
                page.add_param(&self.dly_sync);
                page.add_param(&self.dly_feedback);
                page.add_param(&self.dly_hpf);
                page.add_param(&self.dly_lpf);
                page.add_param(&self.dly_pingpong);
                page.add_param(&self.dly_mix);
            });
            section.add_page("Reverb", |page| {
                page.add_param(&self.rev_on);
                page.add_param(&self.rev_size);
                page.add_param(&self.rev_decay);
                page.add_param(&self.rev_predelay);
                page.add_param(&self.rev_damp);
                page.add_param(&self.rev_width);
                page.add_spacer();
                page.add_param(&self.rev_mix);
            });
        });
    }
}
