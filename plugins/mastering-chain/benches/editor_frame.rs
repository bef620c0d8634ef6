//! One frame of the mastering editor at its default size (1100 × 680), headless: the
//! kit's shell and every panel laid out and painted into egui's shapes (the spectrum's
//! FFT, the goniometer's 1024 points, the histories, the EQ curve), then tessellated into
//! triangles, which is all the CPU does for a frame before the GPU draws it. The meters
//! are full: the chain ran two seconds of a stereo programme with the editor open, and a
//! frame's worth of new samples reaches the spectrum and goniometer taps before each
//! frame (as the audio thread would). Goal: ≤ 2 ms a frame. Also printed: this thread's
//! CPU time per frame (the machine may be loaded).

use std::sync::atomic::Ordering;
use std::sync::Arc;

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use egui::{Pos2, RawInput, Rect, Vec2};
use mastering_chain::editor;
use mastering_chain::params::DEFAULT_SIZE;
use mastering_chain::{Chain, MasterParams};
use oxide_plugin_common::editor::testing::TestContext;

const FS: f32 = 48_000.0;
/// A frame's worth of audio at 60 fps.
const BLOCK: usize = 800;

fn thread_cpu_seconds() -> f64 {
    cpu_time::ThreadTime::try_now().map_or(0.0, |t| t.as_duration().as_secs_f64())
}

/// A stereo programme: two filtered noises with a tone, different per side.
fn programme(frames: usize, seed: u64) -> (Vec<f32>, Vec<f32>) {
    let mut state = seed;
    let mut next = || {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((state >> 40) as f32 / (1u64 << 23) as f32) - 1.0
    };
    let (mut lp_l, mut lp_r) = (0.0f32, 0.0f32);
    let mut l = Vec::with_capacity(frames);
    let mut r = Vec::with_capacity(frames);
    for i in 0..frames {
        let (a, b) = (next(), next());
        lp_l += 0.05 * (a - lp_l);
        lp_r += 0.05 * (b - lp_r);
        let tone = 0.1 * (std::f32::consts::TAU * 220.0 * i as f32 / FS).sin();
        l.push(0.3 * (2.0 * lp_l + 0.3 * a) + tone);
        r.push(0.3 * (2.0 * lp_r + 0.3 * b) + tone);
    }
    (l, r)
}

fn frame(c: &mut Criterion) {
    let params = Arc::new(MasterParams::default());
    let settings = params.settings();
    let mut chain = Chain::new(FS, BLOCK, &settings);
    let meters = chain.meters();
    meters.editor_open.store(true, Ordering::Relaxed);
    let (mut l, mut r) = programme(2 * FS as usize, 3);
    for (l, r) in l.chunks_mut(BLOCK).zip(r.chunks_mut(BLOCK)) {
        chain.process(&mut [l, r], &settings);
    }
    let (block_l, block_r) = programme(BLOCK, 9);

    let context = TestContext::new(params.clone());
    let setter = context.setter();
    let mut app = editor::app(params.clone(), meters.clone());
    let ctx = egui::Context::default();
    let size = Vec2::new(DEFAULT_SIZE.0 as f32, DEFAULT_SIZE.1 as f32);
    let mut time = 0.0;
    let mut input = || {
        time += 1.0 / 60.0;
        RawInput {
            screen_rect: Some(Rect::from_min_size(Pos2::ZERO, size)),
            time: Some(time),
            ..RawInput::default()
        }
    };
    let mut one_frame = |input: RawInput| {
        meters.spectrum.push(&block_l, Some(&block_r));
        meters.scope.push(&block_l, Some(&block_r));
        let output = ctx.run_ui(input, |ui| app.frame(ui, &setter));
        ctx.tessellate(output.shapes, output.pixels_per_point)
    };
    // Fonts and first-frame layout caches.
    for _ in 0..10 {
        one_frame(input());
    }
    let frames = 300;
    let cpu_start = thread_cpu_seconds();
    for _ in 0..frames {
        black_box(one_frame(input()));
    }
    let cpu_ms = (thread_cpu_seconds() - cpu_start) * 1000.0 / frames as f64;
    println!("editor frame at 1100 x 680: {cpu_ms:.3} ms CPU a frame");
    c.bench_function("editor frame 1100x680 + tessellate", |b| {
        b.iter(|| black_box(one_frame(input())))
    });
}

criterion_group!(benches, frame);
criterion_main!(benches);
