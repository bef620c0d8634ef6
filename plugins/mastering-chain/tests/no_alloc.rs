//! Nothing on the audio path allocates: a counting global allocator around `process`.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use mastering_chain::{Chain, Settings};
use shared_dsp::loudness::{ChannelLayout, LoudnessMeter};
use shared_dsp::mastering::*;

struct Counting;
static ARMED: AtomicBool = AtomicBool::new(false);
static COUNT: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if ARMED.load(Ordering::Relaxed) {
            COUNT.fetch_add(1, Ordering::Relaxed);
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
    COUNT.store(0, Ordering::Relaxed);
    ARMED.store(true, Ordering::Relaxed);
    f();
    ARMED.store(false, Ordering::Relaxed);
    COUNT.load(Ordering::Relaxed)
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
    let whole = count(|| {
        chain.process(&mut [&mut l, &mut r], &settings);
        chain.update_latency(&changed);
        chain.process(&mut [&mut l, &mut r], &changed);
    });
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
