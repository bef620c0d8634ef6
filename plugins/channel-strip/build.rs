//! Link options for the plugin binary.

fn main() {
    // Keep the plugin mapped once a host has loaded it. The plugin's copy of std registers
    // thread-exit handlers that live in this library; a host that unloads it while one of
    // its threads is still alive would crash when that thread exits (found by the CLAP
    // host tests). `-z nodelete` makes dlclose a no-op for this library on Linux.
    let target_os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    if target_os == "linux" {
        println!("cargo:rustc-cdylib-link-arg=-Wl,-z,nodelete");
    }
}
