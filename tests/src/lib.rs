//! Support for the host-level tests: builds the real plugin binaries (with
//! `assert_process_allocs`, so an allocation on the audio thread aborts the test) and lays
//! them out as `.clap` and `.vst3` bundles that real hosts load.
//!
//! `cargo test --workspace` does not produce the plugins' `cdylib`s, so the tests build
//! them here, once per test process, in their own target directory
//! (`target/host-tests`), so they never wait on the lock of the outer `cargo test`.

pub mod clap;
pub mod display;
pub mod preset_discovery;
pub mod proc_stats;
pub mod python;
pub mod xkb_keymap;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// One of the suite's plugins.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Plugin {
    ChannelStrip,
    MasteringChain,
}

impl Plugin {
    /// The plugin's id in preset files and `oxide --plugin`.
    pub fn preset_id(self) -> &'static str {
        match self {
            Plugin::ChannelStrip => oxide_plugin_common::presets::CHANNEL_STRIP,
            Plugin::MasteringChain => oxide_plugin_common::presets::MASTERING_CHAIN,
        }
    }

    /// A fresh set of the plugin's parameters, at their defaults.
    pub fn default_params(self) -> Box<dyn nice_plug::prelude::Params> {
        match self {
            Plugin::ChannelStrip => Box::new(channel_strip::StripParams::default()),
            Plugin::MasteringChain => Box::new(mastering_chain::MasterParams::default()),
        }
    }

    pub const ALL: [Plugin; 2] = [Plugin::ChannelStrip, Plugin::MasteringChain];

    /// The Cargo package.
    pub fn package(self) -> &'static str {
        match self {
            Plugin::ChannelStrip => "channel-strip",
            Plugin::MasteringChain => "mastering-chain",
        }
    }

    /// The bundle name (`<name>.clap`, `<name>.vst3`), as `cargo xtask bundle` makes it.
    pub fn bundle_name(self) -> &'static str {
        match self {
            Plugin::ChannelStrip => "oxide-channel-strip",
            Plugin::MasteringChain => "oxide-mastering-chain",
        }
    }

    /// The CLAP plugin id.
    pub fn clap_id(self) -> &'static str {
        match self {
            Plugin::ChannelStrip => "audio.oxide.channel-strip",
            Plugin::MasteringChain => "audio.oxide.mastering-chain",
        }
    }

    /// The name hosts show.
    pub fn display_name(self) -> &'static str {
        match self {
            Plugin::ChannelStrip => "Oxide Channel Strip",
            Plugin::MasteringChain => "Oxide Mastering Chain",
        }
    }

    /// The smallest size (logical pixels at 100 %) the editor's layout fits in: below it
    /// the editor is drawn at a smaller scale.
    pub fn editor_min_size(self) -> (f32, f32) {
        match self {
            Plugin::ChannelStrip => channel_strip::editor::MIN_SIZE,
            Plugin::MasteringChain => mastering_chain::editor::MIN_SIZE,
        }
    }

    /// The built `.clap` file (a single shared library on Linux).
    pub fn clap_path(self) -> PathBuf {
        built()
            .bundle_dir
            .join(format!("{}.clap", self.bundle_name()))
    }

    /// The built `.vst3` bundle directory.
    pub fn vst3_path(self) -> PathBuf {
        built()
            .bundle_dir
            .join(format!("{}.vst3", self.bundle_name()))
    }
}

/// The workspace root (the parent of this crate's directory).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ lives inside the workspace")
        .to_path_buf()
}

/// The directory the host tests build into and keep their scratch files in.
pub fn host_test_dir() -> PathBuf {
    workspace_root().join("target").join("host-tests")
}

struct Built {
    bundle_dir: PathBuf,
}

fn built() -> &'static Built {
    static BUILT: OnceLock<Built> = OnceLock::new();
    BUILT.get_or_init(build_plugins)
}

/// Builds both plugins (debug, with their entry points exported and
/// `assert_process_allocs`) and bundles them.
fn build_plugins() -> Built {
    let target_dir = host_test_dir();
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let features: Vec<String> = Plugin::ALL
        .iter()
        .flat_map(|p| {
            [
                format!("{}/export", p.package()),
                format!("{}/assert_process_allocs", p.package()),
            ]
        })
        .collect();
    let mut command = Command::new(cargo);
    command
        .current_dir(workspace_root())
        .arg("build")
        .arg("--target-dir")
        .arg(&target_dir)
        .arg("--features")
        .arg(features.join(","));
    for plugin in Plugin::ALL {
        command.arg("-p").arg(plugin.package());
    }
    let status = command
        .status()
        .expect("could not run cargo to build the plugins");
    assert!(status.success(), "building the plugins failed");

    let bundle_dir = target_dir.join("bundled");
    for plugin in Plugin::ALL {
        let library = target_dir
            .join("debug")
            .join(library_file_name(plugin.package()));
        bundle(&library, &bundle_dir, plugin.bundle_name());
    }
    Built { bundle_dir }
}

/// Runs the `oxide` command ([`oxide_cli`]) with `args` and the user preset folder
/// `user_dir`; panics with its error output unless it succeeds.
pub fn run_oxide(args: &[&str], user_dir: &Path) -> std::process::Output {
    let run = Command::new(oxide_cli())
        .args(args)
        .env(oxide_plugin_common::user_presets::DIR_ENV, user_dir)
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "oxide {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&run.stderr)
    );
    run
}

/// The `oxide` command, built (debug) once per test process into its own target
/// directory (`target/host-tests/cli`): the plugins' build turns on their `export`
/// feature, and a binary that links both plugins with their entry points exported would
/// not link, so the two builds never share a target directory.
pub fn oxide_cli() -> &'static Path {
    static CLI: OnceLock<PathBuf> = OnceLock::new();
    CLI.get_or_init(|| {
        let target_dir = host_test_dir().join("cli");
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
        let status = Command::new(cargo)
            .current_dir(workspace_root())
            .arg("build")
            .arg("--target-dir")
            .arg(&target_dir)
            .args(["-p", "oxide-cli", "--bin", "oxide"])
            .status()
            .expect("could not run cargo to build the oxide command");
        assert!(status.success(), "building the oxide command failed");
        target_dir
            .join("debug")
            .join(format!("oxide{}", std::env::consts::EXE_SUFFIX))
    })
}

fn library_file_name(package: &str) -> String {
    let stem = package.replace('-', "_");
    if cfg!(target_os = "windows") {
        format!("{stem}.dll")
    } else if cfg!(target_os = "macos") {
        format!("lib{stem}.dylib")
    } else {
        format!("lib{stem}.so")
    }
}

/// Lays out `name.clap` and `name.vst3` the way nice-plug's bundler does on Linux.
fn bundle(library: &Path, bundle_dir: &Path, name: &str) {
    std::fs::create_dir_all(bundle_dir).expect("create bundle dir");
    let clap = bundle_dir.join(format!("{name}.clap"));
    copy_fresh(library, &clap);

    let arch_dir = if cfg!(target_arch = "aarch64") {
        "aarch64-linux"
    } else {
        "x86_64-linux"
    };
    let vst3_bin = bundle_dir
        .join(format!("{name}.vst3"))
        .join("Contents")
        .join(arch_dir);
    std::fs::create_dir_all(&vst3_bin).expect("create vst3 bundle dir");
    copy_fresh(library, &vst3_bin.join(format!("{name}.so")));
}

/// Copies via a temporary name and renames, so a process that has the old file mapped
/// keeps its copy intact.
fn copy_fresh(from: &Path, to: &Path) {
    let tmp = to.with_extension(format!("tmp-{}", std::process::id()));
    std::fs::copy(from, &tmp)
        .unwrap_or_else(|e| panic!("copy {} → {}: {e}", from.display(), tmp.display()));
    std::fs::rename(&tmp, to).expect("rename bundle into place");
}

/// Writes `channels` (equal lengths) as a 32-bit float WAV, which stores every f32 exactly.
pub fn write_float_wav(path: &Path, sample_rate: u32, channels: &[Vec<f32>]) {
    let spec = hound::WavSpec {
        channels: channels.len() as u16,
        sample_rate,
        bits_per_sample: 32,
        sample_format: hound::SampleFormat::Float,
    };
    let mut writer = hound::WavWriter::create(path, spec).unwrap();
    for frame in 0..channels[0].len() {
        for channel in channels {
            writer.write_sample(channel[frame]).unwrap();
        }
    }
    writer.finalize().unwrap();
}

/// Reads a 32-bit float WAV of `channel_count` channels, one `Vec` per channel.
pub fn read_float_wav(path: &Path, channel_count: usize) -> Vec<Vec<f32>> {
    let samples: Vec<f32> = hound::WavReader::open(path)
        .unwrap()
        .into_samples::<f32>()
        .map(Result::unwrap)
        .collect();
    (0..channel_count)
        .map(|c| {
            samples
                .iter()
                .skip(c)
                .step_by(channel_count)
                .copied()
                .collect()
        })
        .collect()
}

/// A test signal: two tones, a rising tone and a click every 7919 samples, at about
/// −18 dBFS RMS like a tracked source.
pub fn programme(frames: usize, sample_rate: f64, sign: f32) -> Vec<f32> {
    (0..frames)
        .map(|i| {
            let t = i as f64 / sample_rate;
            let x = 0.12 * (std::f64::consts::TAU * 110.0 * t).sin()
                + 0.08 * (std::f64::consts::TAU * (800.0 + 4000.0 * t) * t).sin()
                + if i % 7919 == 0 { 0.3 } else { 0.0 };
            x as f32 * sign
        })
        .collect()
}

/// Writes the presets' test input into `path`: half a second of [`programme`] at
/// `rate`, stereo (the right channel at −0.8 times the left's shape, so a polarity or
/// channel swap shows), and returns it planar.
pub fn write_stereo_programme(path: &Path, rate: u32) -> Vec<Vec<f32>> {
    let frames = rate as usize / 2;
    let input = vec![
        programme(frames, rate as f64, 1.0),
        programme(frames, rate as f64, -0.8),
    ];
    write_float_wav(path, rate, &input);
    input
}

/// Asserts `a` and `b` (planar) are the same, sample for sample as f32 bits, naming
/// `what` and the first channel that differs.
pub fn assert_bit_identical(a: &[Vec<f32>], b: &[Vec<f32>], what: &str) {
    assert_eq!(a.len(), b.len(), "{what}: channel count");
    for (channel, (a, b)) in a.iter().zip(b).enumerate() {
        assert_eq!(a.len(), b.len(), "{what}: channel {channel} length");
        let first_difference = a
            .iter()
            .zip(b)
            .position(|(x, y)| x.to_bits() != y.to_bits());
        assert_eq!(first_difference, None, "{what}: channel {channel} differs");
    }
}
