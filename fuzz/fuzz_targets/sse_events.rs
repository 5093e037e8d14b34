//! The `sse_events` fuzz target: see `mcp_bridge::fuzzing::sse_events` for its input and checks.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| mcp_bridge::fuzzing::sse_events(data));
