//! Finishing a browser login on a machine without one (`login --no-browser` over SSH, in a
//! container): the user opens the authorization URL on any machine, the authorization server
//! sends that browser to the loopback redirect URI, which fails there (it is this machine's
//! `127.0.0.1`), and the user pastes the address the browser shows. The pasted URL is judged
//! exactly as a request to the callback would be (`state` first, then the code or the
//! error); the loopback listener keeps running meanwhile, and whichever comes first settles
//! the login.

use super::callback::{self, CallbackError, CallbackParams};
use tokio::sync::mpsc;
use url::Url;

/// Most bytes of one pasted line kept (an authorization response is far shorter).
const LINE_LIMIT: usize = 16 * 1024;

/// Lines typed on the terminal, read by a thread of their own (a blocked read of a terminal
/// cannot be cancelled; the thread ends with the process). The channel closes at EOF.
pub(crate) fn terminal_lines() -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel(4);
    let spawned = std::thread::Builder::new()
        .name("paste".into())
        .spawn(move || {
            let stdin = std::io::stdin();
            let mut line = String::new();
            loop {
                line.clear();
                match stdin.read_line(&mut line) {
                    Ok(0) | Err(_) => break,
                    Ok(_) if line.len() > LINE_LIMIT => {
                        say("that line is too long to be a redirect address")
                    }
                    Ok(_) => {
                        if tx.blocking_send(std::mem::take(&mut line)).is_err() {
                            break;
                        }
                    }
                }
            }
        });
    if let Err(e) = spawned {
        tracing::debug!("cannot read pasted addresses: {e}");
    }
    rx
}

/// One line for the person at the terminal.
pub(crate) fn say(text: &str) {
    crate::terminal::say(text);
}

/// What a pasted line means for the login: `None` when it is not an address this login can
/// use (the user is told why and the login goes on), else what the callback would decide.
pub(crate) fn judge(
    text: &str,
    redirect_uri: &Url,
    expected_state: &str,
) -> Option<Result<CallbackParams, CallbackError>> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    let Ok(url) = Url::parse(text) else {
        say("that is not an address; paste the whole address from the browser's address bar");
        return None;
    };
    let same_place = url.scheme() == redirect_uri.scheme()
        && url.host_str() == redirect_uri.host_str()
        && url.port_or_known_default() == redirect_uri.port_or_known_default()
        && url.path() == redirect_uri.path();
    if !same_place {
        say(&format!(
            "that address is not where this login returns to (it starts with {redirect_uri}); still waiting"
        ));
        return None;
    }
    Some(callback::judge(url.query().unwrap_or(""), expected_state))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn redirect() -> Url {
        Url::parse("http://127.0.0.1:33418/oauth/callback").unwrap()
    }

    /// The address the browser shows is judged as the callback would judge it.
    #[test]
    fn judges_like_the_callback() {
        let r = redirect();
        let ok = judge(
            "  http://127.0.0.1:33418/oauth/callback?code=abc&state=s1&iss=https%3A%2F%2Fas \n",
            &r,
            "s1",
        );
        let params = ok.unwrap().unwrap();
        assert_eq!(params.code.expose(), "abc");
        assert_eq!(params.iss.as_deref(), Some("https://as"));
        assert!(matches!(
            judge(
                "http://127.0.0.1:33418/oauth/callback?code=abc&state=other",
                &r,
                "s1"
            ),
            Some(Err(CallbackError::StateMismatch))
        ));
        assert!(matches!(
            judge(
                "http://127.0.0.1:33418/oauth/callback?error=access_denied&state=s1",
                &r,
                "s1"
            ),
            Some(Err(CallbackError::Denied { .. }))
        ));
    }

    /// Anything but this login's redirect URI is not taken (and does not end the login).
    #[test]
    fn other_addresses_are_not_taken() {
        let r = redirect();
        for text in [
            "",
            "   ",
            "abc",
            "http://127.0.0.1:1/oauth/callback?code=a&state=s1",
            "http://localhost:33418/oauth/callback?code=a&state=s1",
            "https://127.0.0.1:33418/oauth/callback?code=a&state=s1",
            "http://127.0.0.1:33418/other?code=a&state=s1",
        ] {
            assert!(judge(text, &r, "s1").is_none(), "{text:?}");
        }
    }
}
