//! `oxide album`, run as a user runs it, checked with independent readers: the
//! `ebur128` crate (loudness), the reference 16× true-peak meter of shared-dsp's tests,
//! hound (WAV), `metaflac` and `flac` (FLAC tags and samples), a small CUE parser, and
//! Python's XML parser (the HTML report).

mod common;

#[path = "../../shared-dsp/tests/reference/mod.rs"]
mod reference;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{loudness, oxide, programme, read_wav, stderr, write_wav};
use reference::ReferenceMeter;

const FS: u32 = 48_000;

/// The six programmes of the album tests: loudness spanning −24 to −10 LUFS, 8 to 13 s.
const LEVELS: [f64; 6] = [-24.0, -20.0, -17.0, -14.0, -12.0, -10.0];

/// Writes the album's mixes into `dir` and returns their paths and the planar audio.
fn mixes(dir: &Path, levels: &[f64], seconds: f64) -> Vec<(PathBuf, Vec<Vec<f32>>)> {
    levels
        .iter()
        .enumerate()
        .map(|(i, &lufs)| {
            let path = dir.join(format!("mix{}.wav", i + 1));
            let audio = programme(seconds + i as f64 % 3.0, FS, lufs, 0x5EED + i as u64);
            write_wav(&path, &audio, FS);
            (path, audio)
        })
        .collect()
}

fn run_album(args: &[&str]) -> serde_json::Value {
    let mut all = vec!["album"];
    all.extend_from_slice(args);
    all.push("--json");
    let run = oxide(&all);
    assert!(run.status.success(), "{}", stderr(&run));
    serde_json::from_slice(&run.stdout).unwrap()
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// The true peak by the reference meter (16×), dBTP.
fn true_peak_16x(channels: &[Vec<f32>]) -> f64 {
    let views: Vec<&[f32]> = channels.iter().map(Vec::as_slice).collect();
    ReferenceMeter::new().true_peak_db(&views)
}

/// Decodes a FLAC file with `flac` (the reference decoder) into planar f32.
fn decode_flac(path: &Path) -> (u32, Vec<Vec<f32>>) {
    let out = Command::new("flac")
        .args([
            "-d",
            "-s",
            "-c",
            "--force-raw-format",
            "--endian=little",
            "--sign=signed",
        ])
        .arg(path)
        .output()
        .expect("flac (see .ci/run)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let info = Command::new("metaflac")
        .args(["--show-sample-rate", "--show-bps", "--show-channels"])
        .arg(path)
        .output()
        .unwrap();
    let text = String::from_utf8(info.stdout).unwrap();
    let v: Vec<u32> = text.lines().map(|l| l.trim().parse().unwrap()).collect();
    let (rate, bits, channels) = (v[0], v[1], v[2] as usize);
    let width = (bits / 8) as usize;
    let full = (1i64 << (bits - 1)) as f32;
    let samples: Vec<f32> = out
        .stdout
        .chunks_exact(width)
        .map(|b| {
            let mut x = 0i32;
            for (k, &byte) in b.iter().enumerate() {
                x |= (byte as i32) << (8 * k);
            }
            let shift = 32 - 8 * width as i32;
            ((x << shift) >> shift) as f32 / full
        })
        .collect();
    let planar = (0..channels)
        .map(|c| samples.iter().skip(c).step_by(channels).copied().collect())
        .collect();
    (rate, planar)
}

/// A FLAC file's tags by `metaflac`: (KEY upper case, value).
fn flac_tags(path: &Path) -> Vec<(String, String)> {
    let out = Command::new("metaflac")
        .arg("--export-tags-to=-")
        .arg(path)
        .output()
        .expect("metaflac (see .ci/run)");
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_ascii_uppercase(), v.to_string()))
        .collect()
}

fn tag<'a>(tags: &'a [(String, String)], key: &str) -> Option<&'a str> {
    tags.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
}

/// A dB value of a ReplayGain tag ("-3.21 dB").
fn db_tag(tags: &[(String, String)], key: &str) -> f64 {
    tag(tags, key)
        .unwrap_or_else(|| panic!("no {key} in {tags:?}"))
        .trim_end_matches("dB")
        .trim()
        .parse()
        .unwrap()
}

fn concat(parts: &[Vec<Vec<f32>>]) -> Vec<Vec<f32>> {
    (0..parts[0].len())
        .map(|c| parts.iter().flat_map(|p| p[c].iter().copied()).collect())
        .collect()
}

/// Album mode to the streaming profile: the album lands on the target as one programme,
/// the differences between the tracks stay (where the limiter barely acts), every true
/// peak holds the ceiling at 16×, and the tags and ReplayGain values read back with
/// `metaflac` match what an independent meter measures.
#[test]
fn album_mode_keeps_the_differences_and_lands_the_album_on_the_target() {
    let dir = tempfile::tempdir().unwrap();
    let mixes = mixes(dir.path(), &LEVELS, 8.0);
    let album_toml = dir.path().join("album.toml");
    let mut toml = String::from(
        "title = \"Test Album\"\nartist = \"The Testers\"\nyear = 2026\ngenre = \"Noise\"\nupc = \"4006381333931\"\n",
    );
    for (i, (path, _)) in mixes.iter().enumerate() {
        toml += &format!(
            "\n[[track]]\nfile = \"{}\"\ntitle = \"Song {}\"\nisrc = \"USABC260000{}\"\n",
            path.file_name().unwrap().to_str().unwrap(),
            i + 1,
            i + 1
        );
    }
    std::fs::write(&album_toml, toml).unwrap();
    let out = dir.path().join("release");
    let html = dir.path().join("report.html");
    let report = run_album(&[
        "--album",
        s(&album_toml),
        "--out",
        s(&out),
        "--profile",
        "streaming",
        "--report",
        s(&html),
    ]);
    assert_eq!(report["target_lufs"], -14.0);
    let tracks = report["tracks"].as_array().unwrap();
    assert_eq!(tracks.len(), 6);

    let mut outputs = Vec::new();
    for (i, t) in tracks.iter().enumerate() {
        let path = out.join(t["file"].as_str().unwrap());
        let (rate, audio) = decode_flac(&path);
        assert_eq!(rate, FS, "the streaming profile keeps 48 kHz");
        // Every output's true peak at most 0.05 dB over the −1 dBTP ceiling at 16× (the
        // issue's figure; the reference meter's own error is below 5e-4 dB).
        let tp = true_peak_16x(&audio);
        assert!(tp <= -1.0 + 0.05, "track {}: true peak {tp:.3} dBTP", i + 1);
        // Tags, read by metaflac.
        let tags = flac_tags(&path);
        assert_eq!(
            tag(&tags, "TITLE"),
            Some(format!("Song {}", i + 1).as_str())
        );
        assert_eq!(tag(&tags, "ARTIST"), Some("The Testers"));
        assert_eq!(tag(&tags, "ALBUM"), Some("Test Album"));
        assert_eq!(tag(&tags, "DATE"), Some("2026"));
        assert_eq!(
            tag(&tags, "TRACKNUMBER"),
            Some(format!("{}", i + 1).as_str())
        );
        assert_eq!(
            tag(&tags, "ISRC"),
            Some(format!("USABC260000{}", i + 1).as_str())
        );
        assert_eq!(tag(&tags, "BARCODE"), Some("4006381333931"));
        // ReplayGain 2.0: the gain to −18 LUFS by an independent meter, within 0.05 dB
        // (the meters agree within 0.02 LU; the tag has two decimals).
        let (lufs, _) = loudness(&audio, FS);
        let track_gain = db_tag(&tags, "REPLAYGAIN_TRACK_GAIN");
        assert!(
            (track_gain - (-18.0 - lufs)).abs() <= 0.05,
            "track {}: {track_gain} vs {lufs}",
            i + 1
        );
        // The peak tag: the true peak, linear, within 0.1 dB of the reference's 16×
        // reading (the command's meter oversamples 4×: it reads up to a few hundredths
        // of a dB lower).
        let peak: f64 = tag(&tags, "REPLAYGAIN_TRACK_PEAK")
            .unwrap()
            .parse()
            .unwrap();
        assert!(
            (20.0 * peak.log10() - tp).abs() <= 0.1,
            "peak {peak} vs {tp} dBTP"
        );
        outputs.push(audio);
    }
    // The album as one programme, by ebur128: within ±0.1 LU of the target.
    let (album_lufs, _) = loudness(&concat(&outputs), FS);
    assert!(
        (album_lufs + 14.0).abs() <= 0.1,
        "album {album_lufs:.3} LUFS; {report}"
    );
    // The album gain tag on every track: the gain of the album to −18 LUFS.
    for t in tracks {
        let tags = flac_tags(&out.join(t["file"].as_str().unwrap()));
        let album_gain = db_tag(&tags, "REPLAYGAIN_ALBUM_GAIN");
        assert!(
            (album_gain - (-18.0 - album_lufs)).abs() <= 0.05,
            "{album_gain} vs {album_lufs}"
        );
    }
    // The differences between tracks limited by less than 1 dB stay within ±0.2 LU.
    let before: Vec<f64> = mixes.iter().map(|(_, a)| loudness(a, FS).0).collect();
    let after: Vec<f64> = outputs.iter().map(|a| loudness(a, FS).0).collect();
    let gently: Vec<usize> = (0..6)
        .filter(|&i| tracks[i]["limiter_max_gain_reduction_db"].as_f64().unwrap() < 1.0)
        .collect();
    assert!(
        gently.len() >= 4,
        "most tracks are barely limited: {report}"
    );
    for &i in &gently {
        for &j in &gently {
            let change = (after[i] - after[j]) - (before[i] - before[j]);
            assert!(
                change.abs() <= 0.2,
                "tracks {} and {}: difference changed by {change:.3} LU",
                i + 1,
                j + 1
            );
        }
    }
    // The flow preview: the whole album with its 2 s gaps.
    let (_, flow) = decode_flac(&out.join("flow-preview.flac"));
    let expected: usize = outputs.iter().map(|o| o[0].len()).sum::<usize>() + 5 * 2 * FS as usize;
    assert_eq!(flow[0].len(), expected);

    // The HTML report parses as XML and holds one plot per track, and fetches nothing.
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(
        !page.contains("<script")
            && !page.contains("http://www.w3.org/1999/xlink")
            && !page.contains("src=")
    );
    let check = common::python(&format!(
        "import xml.etree.ElementTree as E\n\
         t = E.parse({:?})\n\
         svg = '{{http://www.w3.org/2000/svg}}svg'\n\
         print(len([e for e in t.iter(svg) if e.get('class') == 'track-plot']), len([e for e in t.iter(svg) if e.get('class') == 'album-plot']))",
        s(&html)
    ));
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&check.stdout).trim(), "6 1");
}

/// Track mode: every track on the target within ±0.1 LU by ebur128.
#[test]
fn track_mode_puts_every_track_on_the_target() {
    let dir = tempfile::tempdir().unwrap();
    let mixes = mixes(dir.path(), &[-24.0, -17.0, -11.0], 8.0);
    let out = dir.path().join("release");
    let mut args = vec![
        "--out",
        s(&out),
        "--profile",
        "broadcast",
        "--loudness",
        "track",
    ];
    let paths: Vec<String> = mixes.iter().map(|(p, _)| s(p).to_string()).collect();
    args.extend(paths.iter().map(String::as_str));
    let report = run_album(&args);
    assert_eq!(report["target_lufs"], -23.0);
    for t in report["tracks"].as_array().unwrap() {
        let (spec, audio, _) = read_wav(&out.join(t["file"].as_str().unwrap()));
        assert_eq!(spec.bits_per_sample, 24);
        let (lufs, _) = loudness(&audio, FS);
        assert!((lufs + 23.0).abs() <= 0.1, "{lufs:.3} LUFS; {t}");
        assert!(true_peak_16x(&audio) <= -1.0 + 0.05);
    }
}

/// A CUE sheet as the test reads it.
#[derive(Debug, Default)]
struct Cue {
    catalog: Option<String>,
    file: Option<String>,
    tracks: Vec<CueTrack>,
}

#[derive(Debug, Default)]
struct CueTrack {
    number: u32,
    title: Option<String>,
    performer: Option<String>,
    isrc: Option<String>,
    index0: Option<usize>,
    index1: Option<usize>,
}

/// MM:SS:FF to CD frames.
fn cue_frames(text: &str) -> usize {
    let v: Vec<usize> = text.split(':').map(|x| x.parse().unwrap()).collect();
    assert_eq!(v.len(), 3, "{text}");
    assert!(v[1] < 60 && v[2] < 75, "{text}");
    (v[0] * 60 + v[1]) * 75 + v[2]
}

fn unquote(text: &str) -> String {
    let t = text.trim();
    assert!(
        t.starts_with('"') && t.ends_with('"') && t.len() >= 2,
        "{t}"
    );
    t[1..t.len() - 1].to_string()
}

/// A small CUE parser: the commands the cd profile writes; anything else fails.
fn parse_cue(text: &str) -> Cue {
    let mut cue = Cue::default();
    for line in text.lines() {
        let line = line.trim();
        let (cmd, rest) = line.split_once(' ').unwrap_or((line, ""));
        match cmd {
            "" | "REM" => {}
            "CATALOG" => cue.catalog = Some(rest.to_string()),
            "FILE" => {
                let (name, kind) = rest.rsplit_once(' ').unwrap();
                assert_eq!(kind, "WAVE");
                cue.file = Some(unquote(name));
            }
            "TRACK" => {
                let (n, kind) = rest.split_once(' ').unwrap();
                assert_eq!(kind, "AUDIO");
                cue.tracks.push(CueTrack {
                    number: n.parse().unwrap(),
                    ..CueTrack::default()
                });
            }
            "TITLE" | "PERFORMER" | "ISRC" | "INDEX" => {
                let Some(t) = cue.tracks.last_mut() else {
                    continue; // album-level TITLE / PERFORMER
                };
                match cmd {
                    "TITLE" => t.title = Some(unquote(rest)),
                    "PERFORMER" => t.performer = Some(unquote(rest)),
                    "ISRC" => t.isrc = Some(rest.to_string()),
                    _ => {
                        let (n, time) = rest.split_once(' ').unwrap();
                        match n {
                            "00" => t.index0 = Some(cue_frames(time)),
                            "01" => t.index1 = Some(cue_frames(time)),
                            other => panic!("INDEX {other}"),
                        }
                    }
                }
            }
            other => panic!("unknown CUE command {other}"),
        }
    }
    cue
}

/// The cd profile: the CUE sheet parses; its INDEX times are the image's boundaries
/// exactly in CD frames; the per-track files with their gaps are the image sample for
/// sample; 44.1 kHz/16-bit, dithered; at least 2 s before track 1.
#[test]
fn cd_image_cue_and_tracks_agree_to_the_sample() {
    let dir = tempfile::tempdir().unwrap();
    let mixes = mixes(dir.path(), &[-18.0, -14.0, -16.0], 5.0);
    let album_toml = dir.path().join("album.toml");
    std::fs::write(
        &album_toml,
        format!(
            "title = \"CD\"\nartist = \"Band\"\nupc = \"036000291452\"\n\
             [[track]]\nfile = \"{}\"\ntitle = \"One\"\ngap_s = 0\nisrc = \"GB-XYZ-26-00001\"\n\
             [[track]]\nfile = \"{}\"\ntitle = \"Two \\\"quoted\\\"\"\ngap_s = 1.3\nfade_in_s = 0.5\n\
             [[track]]\nfile = \"{}\"\ntitle = \"Three\"\nartist = \"Guest\"\nfade_out_s = 2\ntrim_start_s = 0.25\n",
            s(&mixes[0].0),
            s(&mixes[1].0),
            s(&mixes[2].0)
        ),
    )
    .unwrap();
    let out = dir.path().join("cd");
    let report = run_album(&[
        "--album",
        s(&album_toml),
        "--out",
        s(&out),
        "--profile",
        "cd",
    ]);
    let cue = parse_cue(&std::fs::read_to_string(out.join("album.cue")).unwrap());
    assert_eq!(cue.catalog.as_deref(), Some("0036000291452"));
    assert_eq!(cue.file.as_deref(), Some("album.wav"));
    assert_eq!(cue.tracks.len(), 3);
    assert_eq!(cue.tracks[0].isrc.as_deref(), Some("GBXYZ2600001"));
    assert_eq!(cue.tracks[1].title.as_deref(), Some("Two ”quoted”"));
    assert_eq!(cue.tracks[2].performer.as_deref(), Some("Guest"));
    assert_eq!(cue.tracks[0].performer.as_deref(), Some("Band"));

    let (spec, image, image_ints) = read_wav(&out.join("album.wav"));
    assert_eq!(
        (spec.sample_rate, spec.bits_per_sample, spec.channels),
        (44_100, 16, 2)
    );
    assert_eq!(spec.sample_format, hound::SampleFormat::Int);
    let frames = image[0].len();
    assert_eq!(frames % 588, 0);
    // Red Book: at least 2 s of pre-gap before track 1 (the album file asked for none).
    assert_eq!(cue.tracks[0].index0, Some(0));
    assert!(cue.tracks[0].index1.unwrap() >= 150);
    let mut at = 0usize; // samples of the image
    for (k, (t, j)) in cue
        .tracks
        .iter()
        .zip(report["tracks"].as_array().unwrap())
        .enumerate()
    {
        assert_eq!(t.number as usize, k + 1);
        if let Some(i0) = t.index0 {
            assert_eq!(
                i0 * 588,
                at,
                "track {}: INDEX 00 is where the last track ended",
                k + 1
            );
        }
        let start = t.index1.unwrap() * 588;
        // The gap: digital silence.
        assert!(
            image_ints[2 * at..2 * start].iter().all(|&x| x == 0),
            "track {} gap",
            k + 1
        );
        let (tspec, _, ints) = read_wav(&out.join(j["file"].as_str().unwrap()));
        assert_eq!((tspec.sample_rate, tspec.bits_per_sample), (44_100, 16));
        assert_eq!(
            ints.len() % (2 * 588),
            0,
            "track {} is whole CD frames",
            k + 1
        );
        assert_eq!(
            &image_ints[2 * start..2 * start + ints.len()],
            &ints[..],
            "track {}",
            k + 1
        );
        // Dithered: the low bits are busy where the music plays (both parities about
        // equally often), not truncated.
        let busy: Vec<i32> = ints.iter().copied().filter(|&x| x.abs() > 64).collect();
        let odd = busy.iter().filter(|&&x| x % 2 != 0).count() as f64 / busy.len() as f64;
        assert!((odd - 0.5).abs() < 0.05, "odd fraction {odd}");
        at = start + ints.len() / 2;
    }
    assert_eq!(at, frames, "the image ends with the last track");
}

/// Writes `minutes` of 8 kHz mono digital silence as 16-bit (a long file, cheaply).
fn long_silence(path: &Path, minutes: f64) {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: 8_000,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(path, spec).unwrap();
    let frames = (minutes * 60.0 * 8_000.0) as u32;
    let mut block = w.get_i16_writer(frames);
    for _ in 0..frames {
        block.write_sample(0i16);
    }
    block.flush().unwrap();
    w.finalize().unwrap();
}

/// The cd profile refuses more than 99 tracks, a track under 4 s and more than 79:57,
/// with clear messages, before writing anything.
#[test]
fn cd_refuses_what_a_cd_cannot_hold() {
    let dir = tempfile::tempdir().unwrap();
    let short = dir.path().join("short.wav");
    write_wav(&short, &programme(3.0, FS, -14.0, 1), FS);
    let ok = dir.path().join("ok.wav");
    write_wav(&ok, &programme(4.5, FS, -14.0, 2), FS);
    let long = dir.path().join("long.wav");
    long_silence(&long, 25.0);
    let out = dir.path().join("cd");
    let o = s(&out);
    let hundred: Vec<&str> = std::iter::repeat_n(s(&ok), 100).collect();
    let cases: [(Vec<&str>, &str); 3] = [
        (hundred, "at most 99 tracks; this album has 100"),
        (
            vec![s(&ok), s(&short)],
            "lasts 3.00 s: a CD track lasts at least 4 s",
        ),
        (
            vec![s(&long), s(&long), s(&long), s(&long)],
            "more than a CD's 79:57",
        ),
    ];
    for (files, expected) in cases {
        let mut args = vec!["album", "--profile", "cd", "--out", o];
        args.extend(files);
        let run = oxide(&args);
        assert!(!run.status.success());
        let err = stderr(&run);
        assert!(err.contains(expected), "{err}");
        assert!(!out.exists());
    }
}

/// `--preset` names a mastering preset for every track: a known one is taken (checked
/// with the plan, before anything is decoded), an unknown one is refused with the
/// presets' names, and nothing is written.
#[test]
fn album_takes_a_mastering_preset_and_refuses_an_unknown_one() {
    let dir = tempfile::tempdir().unwrap();
    let track = dir.path().join("t.wav");
    write_wav(&track, &programme(4.5, FS, -14.0, 3), FS);
    let out = dir.path().join("out");
    let album = |preset: &str| {
        oxide(&[
            "album",
            "--out",
            s(&out),
            "--preset",
            preset,
            "--dry-run",
            s(&track),
        ])
    };
    let run = album("Hip-Hop");
    assert!(run.status.success(), "{}", stderr(&run));
    let run = album("No Such Preset");
    assert!(!run.status.success());
    let err = stderr(&run);
    assert!(
        err.contains("no Oxide Mastering Chain preset or file is called 'No Such Preset'")
            && err.contains("Hip-Hop"),
        "{err}"
    );
    assert!(!out.exists());
}

fn warnings(report: &serde_json::Value) -> Vec<(String, u64)> {
    report["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| {
            (
                w["kind"].as_str().unwrap().to_string(),
                w["track"].as_u64().unwrap(),
            )
        })
        .collect()
}

/// The vinyl profile warns on out-of-phase bass and on loud sustained top end, with the
/// track and times, and stays silent on clean programmes; a 25-minute side is found from
/// the plan (`--dry-run`, nothing decoded).
#[test]
fn vinyl_warnings_fire_on_crafted_signals_only() {
    let dir = tempfile::tempdir().unwrap();
    let frames = 6 * FS as usize;
    let mut rand = common::uniform(77);
    let mut lp = 0.0f32;
    let mut lp_hf = 0.0f32;
    let mut clean = vec![Vec::new(), Vec::new()];
    let mut phase = vec![Vec::new(), Vec::new()];
    let mut bright = vec![Vec::new(), Vec::new()];
    for i in 0..frames {
        let t = i as f32 / FS as f32;
        lp += 0.05 * (rand() - lp);
        lp_hf += 0.1 * (rand() - lp_hf);
        let music = 1.5 * lp;
        let bass = 0.25 * (std::f32::consts::TAU * 50.0 * t).sin();
        // Narrow-band noise at 12 kHz, about −13 dBFS RMS.
        let hiss = 1.6 * lp_hf * (std::f32::consts::TAU * 12_000.0 * t).sin();
        clean[0].push(music + bass);
        clean[1].push(music + bass);
        phase[0].push(0.3 * music + bass);
        phase[1].push(0.3 * music - bass);
        bright[0].push(0.5 * music + hiss);
        bright[1].push(0.5 * music + hiss);
    }
    let files: Vec<PathBuf> = [("clean", &clean), ("phase", &phase), ("bright", &bright)]
        .iter()
        .map(|(name, audio)| {
            let p = dir.path().join(format!("{name}.wav"));
            write_wav(&p, audio, FS);
            p
        })
        .collect();
    let out = dir.path().join("vinyl");
    let report = run_album(&[
        "--profile",
        "vinyl",
        "--out",
        s(&out),
        s(&files[0]),
        s(&files[1]),
        s(&files[2]),
    ]);
    let w = warnings(&report);
    assert!(
        w.contains(&("low_end_out_of_phase".to_string(), 2)),
        "{w:?}"
    );
    assert!(w.contains(&("loud_top_end".to_string(), 3)), "{w:?}");
    assert!(
        w.iter().all(|(_, track)| *track != 1),
        "the clean track: {w:?}"
    );
    // With times: the whole track (0.5 s windows).
    let phase_warning = &report["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["track"] == 2)
        .unwrap();
    assert!(phase_warning["end_s"].as_f64().unwrap() >= 5.5);
    // No loudness push: the clean track keeps its level, under the −3 dBTP ceiling.
    assert_eq!(report["target_lufs"], serde_json::Value::Null);
    let (_, audio, _) = read_wav(&out.join(report["tracks"][0]["file"].as_str().unwrap()));
    assert!(true_peak_16x(&audio) <= -3.0 + 0.05);

    // Clean programmes only: no warning at all.
    let out2 = dir.path().join("vinyl2");
    let report = run_album(&[
        "--profile",
        "vinyl",
        "--out",
        s(&out2),
        s(&files[0]),
        s(&files[0]),
    ]);
    assert!(warnings(&report).is_empty(), "{report}");

    // A 25-minute side, from the plan alone.
    let long = dir.path().join("long.wav");
    long_silence(&long, 25.0);
    let album_toml = dir.path().join("vinyl.toml");
    std::fs::write(
        &album_toml,
        format!(
            "[[track]]\nfile = \"{}\"\nside = \"A\"\n[[track]]\nfile = \"{}\"\nside = \"B\"\n",
            s(&long),
            s(&files[0])
        ),
    )
    .unwrap();
    let run = oxide(&[
        "album",
        "--profile",
        "vinyl",
        "--album",
        s(&album_toml),
        "--out",
        s(&dir.path().join("v3")),
        "--dry-run",
    ]);
    assert!(run.status.success(), "{}", stderr(&run));
    let text = String::from_utf8_lossy(&run.stdout);
    assert!(
        text.contains("side A lasts 25:00.0: longer than a 12\" side at 33⅓ rpm"),
        "{text}"
    );
    assert!(!text.contains("side B"), "{text}");
    assert!(!dir.path().join("v3").exists(), "a dry run writes nothing");
}

/// Every file in `dir` with its bytes, by name.
fn snapshot(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut v: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect();
    v.sort();
    v
}

/// Killing the process mid-album leaves DIR exactly as it was.
#[test]
fn a_killed_album_leaves_the_folder_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let mixes = mixes(dir.path(), &LEVELS, 8.0);
    let out = dir.path().join("release");
    std::fs::create_dir(&out).unwrap();
    std::fs::write(out.join("earlier.txt"), b"an earlier release").unwrap();
    let before = snapshot(&out);
    // Killed at two points: as soon as it is at work (its staging folder exists: the
    // tracks are being decoded and rendered), and as soon as the first file lands in
    // the staging folder (the files are being written). Both are events the test waits
    // for, not delays, so a faster build cannot slip past them; only the second can be
    // missed, if every file is written and moved in between two looks (1 ms apart),
    // and then the test says so and fails rather than pass without having killed it.
    for wait_for_a_file in [false, true] {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_oxide"));
        cmd.args(["album", "--force", "--profile", "cd", "--out", s(&out)]);
        cmd.args(mixes.iter().map(|(p, _)| s(p)));
        cmd.stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null());
        let mut child = cmd.spawn().unwrap();
        let staging = dir
            .path()
            .join(format!(".release.oxide-{}.tmp", child.id()));
        let at_work = || match std::fs::read_dir(&staging) {
            Ok(mut entries) => !wait_for_a_file || entries.next().is_some(),
            Err(_) => false,
        };
        let t0 = std::time::Instant::now();
        while !at_work() {
            assert!(t0.elapsed().as_secs() < 120, "the album never got there");
            assert!(
                child.try_wait().unwrap().is_none(),
                "it ended before it was killed (waiting for a file: {wait_for_a_file})"
            );
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        child.kill().unwrap();
        child.wait().unwrap();
        assert_eq!(
            snapshot(&out),
            before,
            "killed while waiting for a file: {wait_for_a_file}"
        );
    }
}

/// A corrupt track stops the album with its name; nothing is written and DIR stays.
#[test]
fn a_corrupt_track_stops_the_album_with_its_name() {
    let dir = tempfile::tempdir().unwrap();
    let mixes = mixes(dir.path(), &[-14.0, -16.0], 5.0);
    let corrupt = dir.path().join("03 corrupt.wav");
    let mut rand = common::uniform(3);
    let garbage: Vec<u8> = (0..100_000).map(|_| (rand() * 127.0) as i8 as u8).collect();
    std::fs::write(&corrupt, garbage).unwrap();
    let out = dir.path().join("release");
    std::fs::create_dir(&out).unwrap();
    std::fs::write(out.join("earlier.txt"), b"an earlier release").unwrap();
    let before = snapshot(&out);
    let run = oxide(&[
        "album",
        "--force",
        "--out",
        s(&out),
        s(&mixes[0].0),
        s(&mixes[1].0),
        s(&corrupt),
    ]);
    assert!(!run.status.success());
    assert!(stderr(&run).contains("03 corrupt.wav"), "{}", stderr(&run));
    assert_eq!(snapshot(&out), before);
    let left: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with(".release"))
        .collect();
    assert!(left.is_empty(), "no staging folder left behind");
}

/// The same album rendered with 1 and with 2 threads gives identical bytes.
#[test]
fn one_and_two_threads_give_identical_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let mixes = mixes(dir.path(), &[-20.0, -12.0, -15.0], 5.0);
    let mut outs = Vec::new();
    for jobs in ["1", "2"] {
        let out = dir.path().join(format!("cd{jobs}"));
        let mut args = vec!["album", "--profile", "cd", "--jobs", jobs, "--out", s(&out)];
        let names: Vec<&str> = mixes.iter().map(|(p, _)| s(p)).collect();
        args.extend(names);
        let run = oxide(&args);
        assert!(run.status.success(), "{}", stderr(&run));
        outs.push(snapshot(&out));
    }
    assert_eq!(
        outs[0].len(),
        5,
        "three tracks, the image and the CUE sheet"
    );
    for (a, b) in outs[0].iter().zip(&outs[1]) {
        assert_eq!(a.0, b.0);
        assert!(a.1 == b.1, "{} differs", a.0);
    }
}
