//! The audio-file layer against independent tools: Python `soundfile` (libsndfile),
//! Debian's `flac`/`metaflac`, `vorbis-tools`, `lame`, `ffmpeg`, Python `mutagen`
//! (installed by `.ci/run`).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use hound::{SampleFormat, WavSpec};

const FS: u32 = 48_000;

fn oxide(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_oxide"))
        .args(args)
        .output()
        .expect("run oxide")
}

/// Runs a tool and insists it worked.
fn tool(program: &str, args: &[&str]) -> Output {
    let out = Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{program} is needed for this test (see .ci/run): {e}"));
    assert!(
        out.status.success(),
        "{program} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// `ffmpeg -i input CODEC… output`.
fn ffmpeg(input: &str, codec: &[&str], output: &str) {
    let mut args = vec!["-loglevel", "error", "-y", "-i", input];
    args.extend_from_slice(codec);
    args.push(output);
    tool("ffmpeg", &args);
}

/// Runs a Python snippet: in the test environment `.ci/run` makes (with soundfile and
/// mutagen), else the `python3` on PATH.
fn python(script: &str) -> String {
    let venv = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/host-tests/venv/bin/python");
    let python = if venv.exists() {
        s(&venv).to_owned()
    } else {
        "python3".to_owned()
    };
    String::from_utf8(tool(&python, &["-c", script]).stdout).unwrap()
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// 2 s of stereo 24-bit integers: half a second of digital silence, then a 440 Hz tone
/// on the left and noise on the right (busy low bits, distinct channels).
fn reference() -> Vec<[i32; 2]> {
    let mut state = 0x2545_F491_u64;
    (0..2 * FS as usize)
        .map(|i| {
            if i < FS as usize / 2 {
                return [0, 0];
            }
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let noise = ((state >> 40) as i32 & 0xFF_FFFF) - 0x80_0000;
            let t = i as f64 / FS as f64;
            let tone = 0.5 * (std::f64::consts::TAU * 440.0 * t).sin();
            [(tone * 8_388_607.0) as i32, noise / 4]
        })
        .collect()
}

fn write_wav24(path: &Path, frames: &[[i32; 2]]) {
    let spec = WavSpec {
        channels: 2,
        sample_rate: FS,
        bits_per_sample: 24,
        sample_format: SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(path, spec).unwrap();
    for f in frames {
        w.write_sample(f[0]).unwrap();
        w.write_sample(f[1]).unwrap();
    }
    w.finalize().unwrap();
}

/// Integer samples of a WAV, interleaved.
fn wav_ints(path: &Path) -> (WavSpec, Vec<i32>) {
    let mut r = hound::WavReader::open(path).unwrap();
    (r.spec(), r.samples::<i32>().map(|s| s.unwrap()).collect())
}

fn decode(path: &Path) -> Vec<Vec<f64>> {
    oxide_cli::audio::read::<f64>(path)
        .unwrap_or_else(|e| panic!("{}: {e:#}", path.display()))
        .channels
}

fn setup() -> (tempfile::TempDir, PathBuf, Vec<[i32; 2]>) {
    let dir = tempfile::tempdir().unwrap();
    let frames = reference();
    let wav = dir.path().join("ref.wav");
    write_wav24(&wav, &frames);
    (dir, wav, frames)
}

#[test]
fn every_lossless_format_decodes_bit_for_bit() {
    let (dir, wav, frames) = setup();
    let d = dir.path();
    // Written by libsndfile (soundfile), flac and ffmpeg from the same 24-bit samples.
    python(&format!(
        "import soundfile as sf\n\
         x, r = sf.read('{src}', dtype='int32')\n\
         sf.write('{d}/x.wav', x, r, subtype='PCM_24', format='WAVEX')\n\
         sf.write('{d}/f.wav', x / 2**31, r, subtype='FLOAT')\n\
         sf.write('{d}/d.wav', x / 2**31, r, subtype='DOUBLE')\n\
         sf.write('{d}/a.aiff', x, r, subtype='PCM_24')\n\
         sf.write('{d}/c.caf', x, r, subtype='PCM_24')\n",
        src = s(&wav),
        d = s(d)
    ));
    tool(
        "flac",
        &["-s", "-f", "-o", &format!("{}/l.flac", s(d)), s(&wav)],
    );
    ffmpeg(s(&wav), &["-c:a", "alac"], s(&d.join("m.m4a")));
    for name in [
        "ref.wav", "x.wav", "f.wav", "d.wav", "a.aiff", "c.caf", "l.flac", "m.m4a",
    ] {
        let got = decode(&d.join(name));
        assert_eq!(got.len(), 2, "{name}");
        assert_eq!(got[0].len(), frames.len(), "{name}: frames");
        for (i, f) in frames.iter().enumerate() {
            for c in 0..2 {
                // Exact: a 24-bit integer over 2^23 is exact in f64 (and in f32).
                assert_eq!(got[c][i], f[c] as f64 / 8_388_608.0, "{name}: frame {i}");
            }
        }
    }
}

/// The first frame where either channel leaves silence.
fn onset(x: &[Vec<f64>]) -> usize {
    (0..x[0].len()).find(|&i| x[0][i].abs() > 0.05).unwrap_or(0)
}

#[test]
fn lossy_formats_decode_like_their_reference_decoders() {
    let (dir, wav, _) = setup();
    let d = dir.path();
    let p = |n: &str| d.join(n);
    tool("oggenc", &["-Q", "-q", "6", "-o", s(&p("v.ogg")), s(&wav)]);
    tool("oggdec", &["-Q", "-o", s(&p("v-ref.wav")), s(&p("v.ogg"))]);
    tool("lame", &["--quiet", "-b", "256", s(&wav), s(&p("m.mp3"))]);
    tool(
        "lame",
        &["--quiet", "--decode", s(&p("m.mp3")), s(&p("m-ref.wav"))],
    );
    ffmpeg(s(&wav), &["-c:a", "aac", "-b:a", "256k"], s(&p("a.m4a")));
    ffmpeg(s(&p("a.m4a")), &["-c:a", "pcm_f32le"], s(&p("a-ref.wav")));
    // Reference decoders write 16-bit (oggdec, lame) or float (ffmpeg); the decoders
    // themselves differ in rounding and in how they trim the encoder's delay, so the
    // two decodes are lined up on the tone's onset and compared over the rest.
    for (coded, reference, limit_db) in [
        // 16-bit reference output: its quantisation alone is about −98 dB re full scale.
        ("v.ogg", "v-ref.wav", -80.0),
        ("m.mp3", "m-ref.wav", -80.0),
        // ffmpeg's AAC decoder and symphonia's differ a little more (float spectral
        // reconstruction, different IMDCT windows at the block edges).
        ("a.m4a", "a-ref.wav", -60.0),
    ] {
        let ours = decode(&p(coded));
        let theirs = decode(&p(reference));
        let (a, b) = (onset(&ours), onset(&theirs));
        let n = (ours[0].len() - a).min(theirs[0].len() - b) - 1000;
        let mut err = 0.0;
        let mut sig = 0.0;
        for c in 0..2 {
            for i in 0..n {
                err += (ours[c][a + i] - theirs[c][b + i]).powi(2);
                sig += theirs[c][b + i].powi(2);
            }
        }
        let db = 10.0 * (err / sig).log10();
        assert!(
            db <= limit_db,
            "{coded}: {db:.1} dB against the reference decoder"
        );
        let length_gap = ours[0].len().abs_diff(theirs[0].len());
        assert!(
            length_gap <= 2048,
            "{coded}: lengths {} vs {}",
            ours[0].len(),
            theirs[0].len()
        );
    }
}

#[test]
fn flac_output_verifies_and_holds_exactly_the_samples_written() {
    let (dir, wav, frames) = setup();
    let d = dir.path();
    // No change asked: 24-bit in, 24-bit FLAC and WAV out, bit-identical.
    let flac = d.join("o.flac");
    let same = d.join("o.wav");
    for out in [&flac, &same] {
        let run = oxide(&["convert", s(&wav), s(out)]);
        assert!(
            run.status.success(),
            "{}",
            String::from_utf8_lossy(&run.stderr)
        );
    }
    tool("flac", &["-t", "-s", s(&flac)]); // checks every frame's CRC and the MD5
    tool(
        "flac",
        &["-d", "-s", "-f", "-o", s(&d.join("dec.wav")), s(&flac)],
    );
    let expected: Vec<i32> = frames.iter().flatten().copied().collect();
    for decoded in [d.join("dec.wav"), same.clone()] {
        let (spec, ints) = wav_ints(&decoded);
        assert_eq!(spec.bits_per_sample, 24);
        assert!(ints == expected, "{}", decoded.display());
    }
    // A dithered 16-bit FLAC holds what the same conversion writes as WAV (the dither
    // is seeded: the same render twice is the same).
    let f16 = d.join("16.flac");
    let w16 = d.join("16.wav");
    for out in [&f16, &w16] {
        assert!(oxide(&["convert", s(&wav), s(out), "--bits", "16"])
            .status
            .success());
    }
    tool("flac", &["-t", "-s", s(&f16)]);
    tool(
        "flac",
        &["-d", "-s", "-f", "-o", s(&d.join("dec16.wav")), s(&f16)],
    );
    assert_eq!(wav_ints(&d.join("dec16.wav")).1, wav_ints(&w16).1);
    // Longer than one batch of blocks handed to the encoder thread (16 × 4096 frames): 2 s at
    // 96 kHz is 47 blocks, written in order.
    let up = d.join("96k.flac");
    let up_wav = d.join("96k.wav");
    for out in [&up, &up_wav] {
        let run = oxide(&[
            "convert",
            s(&wav),
            s(out),
            "--rate",
            "96000",
            "--bits",
            "24",
        ]);
        assert!(run.status.success());
    }
    tool("flac", &["-t", "-s", s(&up)]);
    tool(
        "flac",
        &["-d", "-s", "-f", "-o", s(&d.join("dec96.wav")), s(&up)],
    );
    let (spec, ints) = wav_ints(&d.join("dec96.wav"));
    assert_eq!(spec.sample_rate, 96_000);
    assert_eq!(ints.len(), 2 * 2 * 96_000);
    assert_eq!(ints, wav_ints(&up_wav).1);
}

/// Interleaved integer test signals of `bits` bits: (name, channels, rate, frames).
fn encoder_cases() -> Vec<(&'static str, usize, u32, u32, Vec<i32>)> {
    let mut state = 0x9E37_79B9_7F4A_7C15_u64;
    let mut noise = move |bits: u32| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        // Full scale, both extremes included.
        ((state as i64) >> (64 - bits)) as i32
    };
    let full = |bits: u32| (1i32 << (bits - 1)) - 1;
    // Music-like: decaying partials, a slow sweep and a little noise, per channel.
    let music = |bits: u32, channels: usize, frames: usize, noise: &mut dyn FnMut(u32) -> i32| {
        let amp = f64::from(full(bits)) * 0.3;
        (0..frames * channels)
            .map(|k| {
                let (i, c) = (k / channels, k % channels);
                let t = i as f64 / 44_100.0;
                let decay = (-3.0 * (t % 0.5)).exp();
                let tone: f64 = [220.0, 331.0, 440.5, 1210.0]
                    .iter()
                    .enumerate()
                    .map(|(h, f)| {
                        (std::f64::consts::TAU * f * (1.0 + 0.01 * c as f64) * t).sin()
                            / (h + 1) as f64
                    })
                    .sum();
                let sweep = (std::f64::consts::TAU * (100.0 + 2000.0 * t) * t).sin() * 0.2;
                (amp * (decay * tone + sweep) * 0.5) as i32 + noise(bits - 8) / 64
            })
            .collect::<Vec<i32>>()
    };
    let odd = 3 * 4096 + 1001;
    let mut cases = Vec::new();
    cases.push((
        "music 16-bit stereo",
        2,
        16,
        44_100,
        music(16, 2, odd, &mut noise),
    ));
    cases.push((
        "music 24-bit stereo",
        2,
        24,
        96_000,
        music(24, 2, odd, &mut noise),
    ));
    cases.push((
        "music 24-bit mono",
        1,
        24,
        48_000,
        music(24, 1, odd, &mut noise),
    ));
    for bits in [16, 24] {
        let n: Vec<i32> = (0..2 * odd).map(|_| noise(bits)).collect();
        cases.push(("full-scale noise", 2, bits, 44_100, n));
        let mut extremes: Vec<i32> = (0..2 * 5000)
            .map(|k| {
                if (k / 3) % 2 == 0 {
                    full(bits)
                } else {
                    -full(bits) - 1
                }
            })
            .collect();
        extremes[7] = 0;
        cases.push(("full-scale square", 2, bits, 48_000, extremes));
        let m: Vec<i32> = (0..odd).map(|_| noise(bits)).collect();
        cases.push(("mono noise", 1, bits, 22_050, m));
    }
    cases.push(("silence", 2, 16, 44_100, vec![0; 2 * odd]));
    // Left = right (a constant side channel), left = −right (a constant mid), low bits
    // unused (wasted bits), one block short of the rest, odd rates.
    let same: Vec<i32> = music(16, 1, odd, &mut noise)
        .into_iter()
        .flat_map(|v| [v, v])
        .collect();
    cases.push(("left = right", 2, 16, 32_000, same));
    let opposite: Vec<i32> = music(24, 1, odd, &mut noise)
        .into_iter()
        .flat_map(|v| [v, -v])
        .collect();
    cases.push(("left = -right", 2, 24, 12_345, opposite));
    let wasted: Vec<i32> = music(24, 2, 9000, &mut noise)
        .into_iter()
        .map(|v| v & !0xFF)
        .collect();
    cases.push(("wasted bits", 2, 24, 88_200, wasted));
    cases.push(("one frame", 2, 24, 44_100, vec![123, -4567]));
    cases.push((
        "seventeen frames",
        1,
        16,
        44_100,
        music(16, 1, 17, &mut noise),
    ));
    cases.push((
        "six channels",
        6,
        24,
        48_000,
        music(24, 6, 5000, &mut noise),
    ));
    cases.push(("odd rate", 2, 16, 100_010, music(16, 2, 4097, &mut noise)));
    cases
}

#[test]
fn flac_encoder_output_decodes_exactly_with_flac_and_symphonia() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    for (k, (name, channels, bits, rate, ints)) in encoder_cases().into_iter().enumerate() {
        let scale = f64::from(1u32 << (bits - 1));
        let planar: Vec<Vec<f32>> = (0..channels)
            .map(|c| {
                ints.iter()
                    .skip(c)
                    .step_by(channels)
                    .map(|&v| (f64::from(v) / scale) as f32)
                    .collect()
            })
            .collect();
        let spec = oxide_cli::audio::OutputSpec {
            container: oxide_cli::audio::Container::Flac,
            depth: if bits == 16 {
                oxide_cli::audio::Depth::Int16
            } else {
                oxide_cli::audio::Depth::Int24
            },
            sample_rate: rate,
            channels,
            dither: oxide_cli::audio::DitherMode::Off,
            exact: true,
            tags: oxide_cli::audio::Tags::default(),
        };
        let flac = d.join(format!("{k}.flac"));
        oxide_cli::audio::write(&flac, spec, &planar).unwrap();
        // Every frame's CRCs and the stream's MD5.
        tool("flac", &["-t", "-s", s(&flac)]);
        let dec = d.join(format!("{k}.wav"));
        tool("flac", &["-d", "-s", "-f", "-o", s(&dec), s(&flac)]);
        let (wav, decoded) = wav_ints(&dec);
        assert_eq!(wav.sample_rate, rate, "{name}");
        assert_eq!(usize::from(wav.channels), channels, "{name}");
        assert_eq!(u32::from(wav.bits_per_sample), bits, "{name}");
        assert!(decoded == ints, "{name}: flac -d differs");
        let ours = decode(&flac);
        for (c, channel) in ours.iter().enumerate() {
            let expected: Vec<f64> = ints
                .iter()
                .skip(c)
                .step_by(channels)
                .map(|&v| f64::from(v) / scale)
                .collect();
            assert!(*channel == expected, "{name}: symphonia differs on {c}");
        }
        // Compression close to the reference encoder's default level on music.
        if name.starts_with("music") {
            let reference = d.join(format!("{k}-5.flac"));
            // Without the padding and seek table it adds (ours has neither).
            let args = ["-5", "--no-padding", "--no-seektable", "-s", "-f", "-o"];
            tool("flac", &[&args[..], &[s(&reference), s(&dec)]].concat());
            let size = |p: &Path| std::fs::metadata(p).unwrap().len() as f64;
            let ratio = size(&flac) / size(&reference);
            // "A few per cent": within 2 % of `flac -5` (measured 0.996 to 1.001 here).
            assert!(ratio < 1.02, "{name}: {ratio:.4} of flac -5's size");
        }
    }
}

#[test]
fn sixteen_bit_dither_is_on_the_grid_uncorrelated_and_silent_in_silence() {
    let (dir, wav, frames) = setup();
    let out = dir.path().join("16.wav");
    assert!(oxide(&["convert", s(&wav), s(&out), "--bits", "16"])
        .status
        .success());
    let (spec, ints) = wav_ints(&out);
    assert_eq!(spec.bits_per_sample, 16);
    // Digital silence stays digital silence (the first half second).
    assert!(ints[..FS as usize].iter().all(|&v| v == 0));
    // The error (in 16-bit steps) against the tone: TPDF dither makes it independent of
    // the signal. |ρ| < 0.01 over 72 000 samples (the standard error of ρ for
    // independent data is 1/√n ≈ 0.004).
    let (mut exy, mut exx, mut eyy) = (0.0, 0.0, 0.0);
    let mut mean_err = 0.0;
    let start = FS as usize / 2;
    for (i, f) in frames.iter().enumerate().skip(start) {
        let x = f[0] as f64 / 256.0;
        let e = ints[2 * i] as f64 - x;
        exy += e * x;
        exx += x * x;
        eyy += e * e;
        mean_err += e;
    }
    let n = (frames.len() - start) as f64;
    let rho = exy / (exx * eyy).sqrt();
    assert!(rho.abs() < 0.01, "correlation {rho}");
    // TPDF of ±1 LSB plus rounding: error variance ¼ LSB² (Lipshitz et al. 1992),
    // within 10 %.
    let var = eyy / n - (mean_err / n).powi(2);
    assert!((var - 0.25).abs() < 0.025, "error variance {var} LSB²");
    // --dither off rounds: the error is bounded by half a step.
    let plain = dir.path().join("plain.wav");
    assert!(oxide(&[
        "convert",
        s(&wav),
        s(&plain),
        "--bits",
        "16",
        "--dither",
        "off"
    ])
    .status
    .success());
    let ints = wav_ints(&plain).1;
    for (i, f) in frames.iter().enumerate() {
        assert!((ints[2 * i] as f64 - f[0] as f64 / 256.0).abs() <= 0.5);
    }
}

#[test]
fn tags_carry_over_and_are_set_cleared_and_read_by_other_tools() {
    let (dir, wav, _) = setup();
    let d = dir.path();
    let tagged = d.join("tagged.flac");
    assert!(oxide(&[
        "convert",
        s(&wav),
        s(&tagged),
        "--tag",
        "TITLE=Song",
        "--tag",
        "ARTIST=Band",
        "--tag",
        "ISRC=GBAYE0000001",
    ])
    .status
    .success());
    let listed =
        String::from_utf8(tool("metaflac", &["--export-tags-to=-", s(&tagged)]).stdout).unwrap();
    for t in ["TITLE=Song", "ARTIST=Band", "ISRC=GBAYE0000001"] {
        assert!(listed.contains(t), "{listed}");
    }
    // Carried into a WAV (ID3 chunk and INFO), one cleared on the way.
    let wav_out = d.join("tagged.wav");
    assert!(
        oxide(&["convert", s(&tagged), s(&wav_out), "--tag", "ARTIST="])
            .status
            .success()
    );
    let read = python(&format!(
        "import mutagen.wave\nf = mutagen.wave.WAVE('{}')\n\
         print(f.tags['TIT2'].text[0] if f.tags and 'TIT2' in f.tags else None)\n\
         print('TPE1' in (f.tags or {{}}))\n",
        s(&wav_out)
    ));
    assert_eq!(
        read.lines().collect::<Vec<_>>(),
        ["Song", "False"],
        "{read}"
    );
}

#[test]
fn master_writes_replaygain_tags_that_match_the_analysis() {
    let (dir, wav, _) = setup();
    let out = dir.path().join("m.flac");
    let run = oxide(&[
        "master",
        s(&wav),
        s(&out),
        "--bits",
        "24",
        "--target",
        "-16",
    ]);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    tool("flac", &["-t", "-s", s(&out)]);
    let gain: f64 =
        String::from_utf8(tool("metaflac", &["--show-tag=REPLAYGAIN_TRACK_GAIN", s(&out)]).stdout)
            .unwrap()
            .trim()
            .trim_start_matches("REPLAYGAIN_TRACK_GAIN=")
            .trim_end_matches(" dB")
            .parse()
            .unwrap();
    let doc: serde_json::Value =
        serde_json::from_slice(&oxide(&["analyze", "--json", s(&out)]).stdout).unwrap();
    let lufs = doc["files"][0]["integrated_lufs"].as_f64().unwrap();
    // 0.01 dB, the figure; the tag is written with two decimals (±0.005) and
    // the analysis reads the 24-bit file the tag was measured on before packing.
    assert!(
        (gain - (-18.0 - lufs)).abs() <= 0.01,
        "tag {gain} vs {lufs} LUFS"
    );
}

#[test]
fn bad_inputs_fail_in_one_line_naming_the_file_and_write_nothing() {
    let (dir, wav, _) = setup();
    let d = dir.path();
    let empty = d.join("empty.wav");
    std::fs::write(&empty, b"").unwrap();
    let text = d.join("text.wav");
    std::fs::write(&text, b"this is not audio, just text\n").unwrap();
    let flac = d.join("whole.flac");
    tool("flac", &["-s", "-f", "-o", s(&flac), s(&wav)]);
    let bytes = std::fs::read(&flac).unwrap();
    let truncated = d.join("truncated.flac");
    std::fs::write(&truncated, &bytes[..bytes.len() / 2]).unwrap();
    let folder = d.join("folder.wav");
    std::fs::create_dir(&folder).unwrap();
    let missing = d.join("missing.wav");
    let no_frames = d.join("noframes.wav");
    write_wav24(&no_frames, &[]);
    let no_channels = d.join("nochannels.wav");
    // A canonical 44-byte header with 0 channels (hound refuses to write one).
    let mut h = Vec::new();
    h.extend_from_slice(b"RIFF");
    h.extend_from_slice(&36u32.to_le_bytes());
    h.extend_from_slice(b"WAVEfmt ");
    h.extend_from_slice(&16u32.to_le_bytes());
    h.extend_from_slice(&1u16.to_le_bytes());
    h.extend_from_slice(&0u16.to_le_bytes());
    h.extend_from_slice(&FS.to_le_bytes());
    h.extend_from_slice(&0u32.to_le_bytes());
    h.extend_from_slice(&0u16.to_le_bytes());
    h.extend_from_slice(&16u16.to_le_bytes());
    h.extend_from_slice(b"data");
    h.extend_from_slice(&0u32.to_le_bytes());
    std::fs::write(&no_channels, &h).unwrap();
    for bad in [
        &empty,
        &text,
        &truncated,
        &folder,
        &missing,
        &no_frames,
        &no_channels,
    ] {
        for command in ["analyze", "convert", "master"] {
            let out = d.join("out.flac");
            let mut args = vec![command, s(bad)];
            if command != "analyze" {
                args.push(s(&out));
            }
            let run = oxide(&args);
            let err = String::from_utf8_lossy(&run.stderr);
            assert!(!run.status.success(), "{command} {}: {err}", bad.display());
            let first = err.lines().next().unwrap_or("");
            assert!(
                first.starts_with("oxide: error: ") && first.contains(s(bad)),
                "{command} {}: {err}",
                bad.display()
            );
            assert!(
                !out.exists(),
                "{command} {}: nothing written",
                bad.display()
            );
            // Nothing else left beside it either (no temporary file).
            assert!(
                std::fs::read_dir(d).unwrap().all(|e| !e
                    .unwrap()
                    .file_name()
                    .to_string_lossy()
                    .contains(".oxide-")),
                "{command} {}",
                bad.display()
            );
        }
    }
}

/// Starts `oxide args…`, waits until its temporary file for `out` appears (or, with
/// `after`, that long), and kills it with SIGKILL.
fn kill_mid_write(args: &[&str], out: &Path, after: Option<std::time::Duration>) {
    let folder = out.parent().unwrap();
    let prefix = format!(".{}.oxide-", out.file_name().unwrap().to_string_lossy());
    let mut child = Command::new(env!("CARGO_BIN_EXE_oxide"))
        .args(args)
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    loop {
        let writing = std::fs::read_dir(folder).unwrap().any(|e| {
            e.unwrap()
                .file_name()
                .to_string_lossy()
                .starts_with(&prefix)
        });
        if after.map_or(writing, |t| started.elapsed() >= t) {
            break;
        }
        assert!(
            child.try_wait().unwrap().is_none(),
            "{args:?} finished before it was killed"
        );
        assert!(
            started.elapsed().as_secs() < 300,
            "no temporary file appeared"
        );
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    child.kill().unwrap(); // SIGKILL on Unix
    child.wait().unwrap();
}

#[test]
fn sigkill_while_writing_leaves_no_output_and_an_existing_one_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // 60 s at 96 kHz: long enough to be caught while writing.
    let input = d.join("long.wav");
    let long: Vec<[i32; 2]> = reference()
        .iter()
        .cycle()
        .take(60 * 96_000)
        .copied()
        .collect();
    let spec = WavSpec {
        channels: 2,
        sample_rate: 96_000,
        bits_per_sample: 24,
        sample_format: SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(&input, spec).unwrap();
    for f in &long {
        w.write_sample(f[0]).unwrap();
        w.write_sample(f[1]).unwrap();
    }
    w.finalize().unwrap();
    let fresh = d.join("fresh.flac");
    let convert = [
        "convert",
        s(&input),
        s(&fresh),
        "--rate",
        "44100",
        "--bits",
        "16",
    ];
    kill_mid_write(&convert, &fresh, None);
    assert!(!fresh.exists(), "no file under the output's name");
    let existing = d.join("existing.wav");
    std::fs::write(&existing, b"the user's file").unwrap();
    kill_mid_write(
        &["convert", s(&input), s(&existing), "--force"],
        &existing,
        None,
    );
    assert_eq!(std::fs::read(&existing).unwrap(), b"the user's file");
    // `master` writes through the same writer once its passes are done; killed during
    // the passes, the existing file is untouched too.
    let mastered = d.join("master.wav");
    std::fs::write(&mastered, b"the user's master").unwrap();
    let master = ["master", s(&input), s(&mastered), "--force"];
    kill_mid_write(&master, &mastered, Some(std::time::Duration::from_secs(2)));
    assert_eq!(std::fs::read(&mastered).unwrap(), b"the user's master");
}
