//! The `www_authenticate` fuzz target: see `mcp_bridge::fuzzing::www_authenticate` for its input and checks.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| mcp_bridge::fuzzing::www_authenticate(data));
