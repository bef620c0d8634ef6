//! Runs a whole render with the wide builds and again with the portable ones, and asserts
//! the same bits (`shared_dsp::cpu`'s reproducibility rule); then once more in a child
//! process whose C library is told the CPU has no AVX2 and no FMA, since glibc's maths
//! library (`sin`, `exp`, `ln`, `pow`, used where coefficients are designed) picks
//! FMA-compiled variants on CPUs that have FMA, and those round differently in the last
//! bit. Shared by the chains' tests (`#[path]` module); switching the builds off is
//! process-wide, so each caller is its own test binary.

use shared_dsp::cpu;

/// Set in the child process: print the render's hash instead of testing.
const HASH_ONLY: &str = "OXIDE_TEST_PRINT_RENDER_HASH";

fn hash(channels: &[Vec<f32>]) -> u64 {
    channels
        .iter()
        .flatten()
        .fold(0xcbf2_9ce4_8422_2325, |h, x| {
            (h ^ x.to_bits() as u64).wrapping_mul(0x0100_0000_01b3)
        })
}

/// Renders with the wide builds, then with the portable ones, and compares every sample
/// of every channel bit for bit; then compares with the same render in a child process
/// (this test binary, running only `test_name`) where glibc's CPU-specific variants are
/// switched off.
pub fn assert_builds_render_the_same_bits(
    test_name: &str,
    mut render: impl FnMut() -> Vec<Vec<f32>>,
) {
    let wide = render();
    if std::env::var_os(HASH_ONLY).is_some() {
        println!("RENDER_HASH {:016x}", hash(&wide));
        return;
    }
    cpu::set_wide_builds(false);
    let portable = render();
    cpu::set_wide_builds(true);
    assert_eq!(wide.len(), portable.len());
    for (c, (w, p)) in wide.iter().zip(&portable).enumerate() {
        let first = w
            .iter()
            .zip(p)
            .position(|(a, b)| a.to_bits() != b.to_bits());
        assert_eq!(
            first, None,
            "channel {c}: the builds differ from frame {first:?}"
        );
    }
    if cfg!(all(target_os = "linux", target_env = "gnu")) {
        let exe = std::env::current_exe().expect("the test binary's path");
        let out = std::process::Command::new(exe)
            .args([test_name, "--exact", "--nocapture", "--test-threads=1"])
            .env(HASH_ONLY, "1")
            // glibc ≥ 2.26 reads these at start-up (older names and newer names both given).
            .env(
                "GLIBC_TUNABLES",
                "glibc.cpu.hwcaps=-AVX2,-FMA,-AVX2_Usable,-FMA_Usable",
            )
            .output()
            .expect("the test binary runs again");
        let stdout = String::from_utf8_lossy(&out.stdout);
        // The test harness prints the test's name on the same line, before the hash.
        let child = stdout
            .split_once("RENDER_HASH ")
            .and_then(|(_, rest)| rest.get(..16))
            .unwrap_or_else(|| panic!("no hash from the child run:\n{stdout}"));
        assert_eq!(
            child,
            format!("{:016x}", hash(&wide)),
            "the render differs when the C library's maths runs without AVX2/FMA"
        );
    }
}
