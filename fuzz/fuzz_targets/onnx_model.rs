#![no_main]
libfuzzer_sys::fuzz_target!(
    init: verai_fuzz::tolerate_caught_panics(),
    |data: &[u8]| verai_fuzz::targets::onnx_model(data)
);
