#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| verai_fuzz::targets::market_abi(data));
