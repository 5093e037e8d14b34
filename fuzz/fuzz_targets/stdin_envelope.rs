//! The `stdin_envelope` fuzz target: see `mcp_bridge::fuzzing::stdin_envelope` for its input and checks.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| mcp_bridge::fuzzing::stdin_envelope(data));
