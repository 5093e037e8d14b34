//! A string that must never be printed: tokens, client secrets, credential header values.
//!
//! `Debug` and `Display` show `(redacted)`; the value is reachable only through
//! [`Secret::expose`], which makes every use easy to find. The memory is wiped on drop.

use std::fmt;
use zeroize::Zeroize;

/// A secret string.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Secret(String);

impl Secret {
    pub(crate) fn new(value: String) -> Self {
        Secret(value)
    }

    /// The secret value. Call only where it is sent to where it belongs.
    pub(crate) fn expose(&self) -> &str {
        &self.0
    }
}

impl Drop for Secret {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

/// Serialized only into the credential store; never into logs or messages.
impl serde::Serialize for Secret {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> serde::Deserialize<'de> for Secret {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d).map(Secret)
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("(redacted)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("(redacted)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Neither formatting trait reveals the value.
    #[test]
    fn never_prints() {
        let s = Secret::new("hunter2".into());
        assert_eq!(
            format!("{s} {s:?} {:?}", Some(&s)),
            "(redacted) (redacted) Some((redacted))"
        );
        assert_eq!(s.expose(), "hunter2");
    }
}
