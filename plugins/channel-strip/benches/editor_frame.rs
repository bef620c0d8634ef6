//! One frame of the strip's editor at its default size, headless: the real editor code
//! (shell and body) run by egui and tessellated into the triangles the window's renderer
//! uploads, as the window does each frame. The GPU's drawing is not in it. Two cases:
//! idle (nothing new from the audio thread) and playing (a new block in the spectrum's
//! tap every frame, so the analysis runs too).

use std::sync::Arc;

use channel_strip::editor;
use channel_strip::params::{StripParams, DEFAULT_SIZE};
use channel_strip::Meters;
use criterion::{criterion_group, criterion_main, Criterion};
use oxide_plugin_common::editor::testing::TestContext;

fn frame(c: &mut Criterion) {
    for playing in [false, true] {
        let params = Arc::new(StripParams::default());
        let meters = Arc::new(Meters::default());
        let host = TestContext::new(params.clone());
        let mut app = editor::app(params.clone(), meters.clone());
        let ctx = egui::Context::default();
        let size = egui::vec2(DEFAULT_SIZE.0 as f32, DEFAULT_SIZE.1 as f32);
        let block: Vec<f32> = (0..512)
            .map(|n| 0.5 * (n as f32 * 0.07).sin() + 0.1 * (n as f32 * 1.3).sin())
            .collect();
        let mut time = 0.0;
        let name = if playing {
            "editor frame, playing"
        } else {
            "editor frame, idle"
        };
        c.bench_function(name, |b| {
            b.iter(|| {
                time += 1.0 / 60.0;
                if playing {
                    meters.spectrum.push(&block, None);
                }
                let input = egui::RawInput {
                    screen_rect: Some(egui::Rect::from_min_size(egui::Pos2::ZERO, size)),
                    time: Some(time),
                    ..Default::default()
                };
                let setter = host.setter();
                let output = ctx.run_ui(input, |ui| app.frame(ui, &setter));
                let primitives = ctx.tessellate(output.shapes, output.pixels_per_point);
                std::hint::black_box(primitives.len())
            })
        });
    }
}

criterion_group!(benches, frame);
criterion_main!(benches);
