//! The `callback_query` fuzz target: see `mcp_bridge::fuzzing::callback_query` for its input and checks.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| mcp_bridge::fuzzing::callback_query(data));
