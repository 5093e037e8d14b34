//! The `modern_headers` fuzz target: see `mcp_bridge::fuzzing::modern_headers` for its input and checks.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| mcp_bridge::fuzzing::modern_headers(data));
