//! The `as_metadata` fuzz target: see `mcp_bridge::fuzzing::as_metadata` for its input and checks.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| mcp_bridge::fuzzing::as_metadata(data));
