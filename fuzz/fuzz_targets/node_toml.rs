#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| verai_fuzz::targets::node_toml(data));
