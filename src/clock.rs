//! The one wall clock: whole seconds since the Unix epoch, and the arithmetic on the times
//! servers hand us (`expires_in`, `retry`), which must never overflow or wrap.
//!
//! Everything that stores or compares an absolute time (token expiry, the era memory) reads
//! it from here. Timers inside the process use `tokio::time` instead.

/// Longest lifetime accepted for anything a server dates (a token, a cached answer): ten
/// years. Larger values are clamped, so they can neither overflow nor mean "forever".
pub(crate) const MAX_LIFETIME_SECS: u64 = 10 * 365 * 24 * 3600;

/// Seconds since the Unix epoch (0 if the system clock is before it).
pub(crate) fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// The absolute time `secs` from `from`, with `secs` clamped to [`MAX_LIFETIME_SECS`].
pub(crate) fn after(from: u64, secs: u64) -> u64 {
    from.saturating_add(secs.min(MAX_LIFETIME_SECS))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Huge lifetimes are clamped instead of wrapping into the past.
    #[test]
    fn after_saturates() {
        assert_eq!(after(100, 50), 150);
        assert_eq!(after(100, u64::MAX), 100 + MAX_LIFETIME_SECS);
        assert_eq!(after(u64::MAX, 1), u64::MAX);
        assert!(now() > 1_700_000_000);
    }
}
