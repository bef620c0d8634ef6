//! The library behind the `oxide` command: the audio-file layer that every command (and
//! the tests) use. The binary's `main.rs` parses arguments and calls into this and its
//! own command modules.

pub mod audio;
