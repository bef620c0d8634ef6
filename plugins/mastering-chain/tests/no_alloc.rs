//! Nothing on the audio path allocates: a counting global allocator around `process`.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use mastering_chain::{Chain, Settings};
use shared_dsp::loudness::{ChannelLayout, LoudnessMeter};
use shared_dsp::mastering::*;

struct Counting;
thread_local! {
    // Per thread: the harness runs tests, and reports their results, on other threads
    // at the same time, and their allocations are not the processing's.
    static ARMED: Cell<bool> = const { Cell::new(false) };
    static COUNT: Cell<usize> = const { Cell::new(0) };
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // `try_with`: no count while the thread's locals are being torn down.
        if ARMED.try_with(Cell::get).unwrap_or(false) {
            let _ = COUNT.try_with(|c| c.set(c.get() + 1));
        }
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn count(f: impl FnOnce()) -> usize {
    COUNT.with(|c| c.set(0));
    ARMED.with(|a| a.set(true));
    f();
    ARMED.with(|a| a.set(false));
    COUNT.with(Cell::get)
}

#[test]
fn nothing_allocates_while_processing() {
    let fs = 48_000.0;
    let mut l = vec![0.3f32; 700];
    let mut r = vec![-0.2f32; 700];
    let mut eq = TonalEq::new(fs);
    let mut mb = MultibandCompressor::new(fs);
    let mut img = StereoImager::new(fs);
    let mut lim = TruePeakLimiter::new(fs);
    let mut dither = Dither::new(fs);
    let mut meter = LoudnessMeter::new(fs as f64, ChannelLayout::Stereo);
    let results = [
        (
            "eq",
            count(|| eq.process(&mut [&mut l, &mut r], &TonalEqSettings::default())),
        ),
        (
            "multiband",
            count(|| mb.process(&mut [&mut l, &mut r], &MultibandSettings::default())),
        ),
        (
            "imager",
            count(|| img.process(&mut [&mut l, &mut r], &ImagerSettings::default())),
        ),
        (
            "limiter",
            count(|| lim.process(&mut [&mut l, &mut r], &LimiterSettings::default())),
        ),
        (
            "dither",
            count(|| dither.process(&mut [&mut l, &mut r], &DitherSettings::default())),
        ),
        ("meter", count(|| meter.process(&[&l, &r]))),
    ];
    let settings = Settings::default();
    let mut chain = Chain::new(fs, 512, &settings);
    let mut changed = settings;
    changed.limiter.lookahead_ms = 4.0;
    changed.learn = true;
    changed.match_bypass = true;
    changed.bypass = true;
    let meters = chain.meters();
    let whole = count(|| {
        chain.process(&mut [&mut l, &mut r], &settings);
        // An editor opens: the analysis for it (correlation, spectrum, goniometer, the
        // limiter's GR history) starts, allocating nothing either.
        meters
            .editor_open
            .store(true, std::sync::atomic::Ordering::Relaxed);
        chain.update_latency(&changed);
        chain.process(&mut [&mut l, &mut r], &changed);
    });
    assert!(meters.scope.written() > 0, "the analysis ran");
    assert_eq!(
        (results, whole),
        (
            [
                ("eq", 0),
                ("multiband", 0),
                ("imager", 0),
                ("limiter", 0),
                ("dither", 0),
                ("meter", 0)
            ],
            0
        )
    );
}

#[test]
fn the_repair_stage_allocates_nothing_switched_on_repairing_or_switched_off() {
    let fs = 48_000.0;
    let frames = 48_000;
    // A tone with a click every 100 ms, so the declicker analyses, detects and repairs
    // (the count below proves the repair path ran while counted).
    let mut l: Vec<f32> = (0..frames)
        .map(|n| 0.3 * (std::f32::consts::TAU * 440.0 * n as f32 / fs).sin())
        .collect();
    for n in (2400..frames).step_by(4800) {
        l[n] += 0.5;
        l[n + 1] -= 0.4;
    }
    let mut r = l.clone();
    let off = Settings::default();
    let mut on = off;
    on.repair.on = true;
    let mut less = on;
    less.repair.sensitivity = 20.0;
    let mut chain = Chain::new(fs, 512, &off);
    let allocations = count(|| {
        for (block, (l, r)) in l.chunks_mut(512).zip(r.chunks_mut(512)).enumerate() {
            // Off for the first blocks, then on, then at another sensitivity, then off
            // and on again: every transition the host can cause while processing.
            let settings = match block {
                0..=3 => &off,
                4..=59 => &on,
                60..=79 => &less,
                80..=82 => &off,
                _ => &on,
            };
            chain.update_latency(settings);
            chain.process(&mut [l, r], settings);
        }
    });
    assert!(chain.repaired_clicks() > 0, "the repair path did not run");
    assert_eq!(allocations, 0);
}
