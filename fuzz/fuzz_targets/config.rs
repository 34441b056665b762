//! `seglake.toml` and the sizes it takes, on any text: settings or one clear message, never
//! a panic; the settings then make a session builder.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use seglake::config::{Settings, parse_byte_size};

fuzz_target!(|text: &str| {
    match Settings::parse(text, Path::new("project")) {
        Ok(settings) => {
            let _ = settings
                .clone()
                .override_with(Settings::default())
                .builder();
        }
        Err(message) => assert!(!message.is_empty()),
    }
    if let Err(message) = parse_byte_size(text) {
        assert!(!message.is_empty());
    }
});
