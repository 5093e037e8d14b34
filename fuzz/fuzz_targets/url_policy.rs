//! The `url_policy` fuzz target: see `mcp_bridge::fuzzing::url_policy` for its input and checks.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| mcp_bridge::fuzzing::url_policy(data));
