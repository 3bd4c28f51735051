#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| verai_fuzz::targets::evm_bytecode(data));
