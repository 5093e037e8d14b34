//! stderr as a person sees it: plain sentences, color only where it is wanted, and at most
//! one live line (what a command is waiting for, and for how long) that other output never
//! garbles.
//!
//! Every line a person reads goes through [`line`], including the log lines of the person
//! mode (see `logging`) and the final error. Under a host nothing here paints or redraws:
//! [`style`] is the plain default until `logging::init` says otherwise, and [`waiting`]
//! shows nothing.

use std::borrow::Cow;
use std::ffi::OsStr;
use std::io::Write;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

/// How stderr is written for this process.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Style {
    /// Plain sentences for a person (a subcommand) rather than a structured log (a host).
    pub(crate) person: bool,
    /// ANSI colors and bold.
    pub(crate) color: bool,
    /// A live line may be drawn and redrawn in place.
    pub(crate) live: bool,
}

impl Style {
    /// The style for a person on this stderr: color and a live line only on a terminal, and
    /// color only when `NO_COLOR` is unset (or empty) and `TERM` is not `dumb`.
    pub(crate) fn for_person(
        stderr_is_terminal: bool,
        no_color: Option<&OsStr>,
        term: Option<&OsStr>,
    ) -> Style {
        let dumb = term.is_some_and(|t| t == "dumb");
        let no_color = no_color.is_some_and(|v| !v.is_empty());
        Style {
            person: true,
            color: stderr_is_terminal && !no_color && !dumb,
            live: stderr_is_terminal && !dumb,
        }
    }
}

static STYLE: OnceLock<Style> = OnceLock::new();

/// The live line now shown, if any. Held while writing, so lines never interleave.
static LIVE: Mutex<Option<String>> = Mutex::new(None);

/// Sets the style once, at start-up; later calls are ignored.
pub(crate) fn set_style(style: Style) {
    let _ = STYLE.set(style);
}

/// The style of this process (the plain host style until [`set_style`]).
pub(crate) fn style() -> Style {
    STYLE.get().copied().unwrap_or_default()
}

/// What a piece of text is, for painting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Tone {
    Bold,
    Warning,
    Error,
    Dim,
}

/// `text` in `tone` when colors are on; unchanged otherwise.
pub(crate) fn paint(tone: Tone, text: &str) -> Cow<'_, str> {
    paint_with(style().color, tone, text)
}

fn paint_with(color: bool, tone: Tone, text: &str) -> Cow<'_, str> {
    if !color {
        return Cow::Borrowed(text);
    }
    let code = match tone {
        Tone::Bold => "1",
        Tone::Warning => "1;33",
        Tone::Error => "1;31",
        Tone::Dim => "2",
    };
    Cow::Owned(format!("\x1b[{code}m{text}\x1b[0m"))
}

/// Writes one or more lines of text to stderr (a newline is added), around any live line.
pub(crate) fn line(text: &str) {
    let live = LIVE.lock().unwrap_or_else(|p| p.into_inner());
    let mut err = std::io::stderr().lock();
    // A closed stderr leaves nothing useful to do about it.
    let _ = match live.as_deref() {
        Some(shown) => write!(err, "\r\x1b[2K{text}\n{shown}"),
        None => writeln!(err, "{text}"),
    };
    let _ = err.flush();
}

/// A sentence for a person.
pub(crate) fn say(text: &str) {
    line(text);
}

/// A warning for a person: `warning: ...`.
pub(crate) fn warn(text: &str) {
    line(&format!("{} {text}", paint(Tone::Warning, "warning:")));
}

/// Shows "waiting for WHAT: 4 min 59 s left (Ctrl-C to cancel)" as a live line, updated every
/// second, until the returned guard is dropped (which clears it). Nothing is shown unless the
/// style allows a live line; the caller still logs what it waits for, for logs and hosts.
/// Call it inside the tokio runtime.
#[must_use = "the line disappears when the guard is dropped"]
pub(crate) fn waiting(what: &str, timeout: Duration) -> Waiting {
    if !style().live || tokio::runtime::Handle::try_current().is_err() {
        return Waiting { ticker: None };
    }
    let what = what.to_owned();
    let deadline = Instant::now() + timeout;
    let ticker = tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        loop {
            tick.tick().await;
            let left = deadline.saturating_duration_since(Instant::now());
            show_live(Some(waiting_text(&what, left)));
        }
    });
    Waiting {
        ticker: Some(ticker),
    }
}

/// The live line's text.
fn waiting_text(what: &str, left: Duration) -> String {
    format!(
        "{} {what}: {} left {}",
        paint(Tone::Bold, "waiting for"),
        clock_duration(left.as_secs()),
        paint(Tone::Dim, "(Ctrl-C to cancel)")
    )
}

/// Replaces (or with `None`, clears) the live line.
fn show_live(text: Option<String>) {
    let mut live = LIVE.lock().unwrap_or_else(|p| p.into_inner());
    let mut err = std::io::stderr().lock();
    let _ = match &text {
        Some(t) => write!(err, "\r\x1b[2K{t}"),
        None if live.is_some() => write!(err, "\r\x1b[2K"),
        None => Ok(()),
    };
    let _ = err.flush();
    *live = text;
}

/// Keeps a live line on screen; dropping it stops the updates and clears the line.
pub(crate) struct Waiting {
    ticker: Option<tokio::task::JoinHandle<()>>,
}

impl Drop for Waiting {
    fn drop(&mut self) {
        if let Some(ticker) = self.ticker.take() {
            ticker.abort();
            show_live(None);
        }
    }
}

/// "4 min 05 s", "45 s": a countdown for people.
pub(crate) fn clock_duration(secs: u64) -> String {
    match secs {
        0..=59 => format!("{secs} s"),
        60..=3599 => format!("{} min {:02} s", secs / 60, secs % 60),
        _ => format!("{} h {:02} min", secs / 3600, secs % 3600 / 60),
    }
}

/// An `io::Write` for the logger in person mode: it gathers one formatted event and hands it
/// to [`line`] when dropped, so log lines go around the live line too.
#[derive(Default)]
pub(crate) struct LineWriter {
    buffer: Vec<u8>,
}

impl Write for LineWriter {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.buffer.extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drop for LineWriter {
    fn drop(&mut self) {
        if self.buffer.is_empty() {
            return;
        }
        let text = String::from_utf8_lossy(&self.buffer);
        line(text.strip_suffix('\n').unwrap_or(&text));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Color needs a terminal, no `NO_COLOR` (an empty one does not count) and a real `TERM`;
    /// a live line needs a terminal that is not dumb.
    #[test]
    fn chooses_the_style() {
        let some = |s: &'static str| Some(OsStr::new(s));
        let on = Style::for_person(true, None, some("xterm-256color"));
        assert!(on.person && on.color && on.live);
        let off = Style::for_person(false, None, some("xterm"));
        assert!(off.person && !off.color && !off.live);
        let no_color = Style::for_person(true, some("1"), some("xterm"));
        assert!(!no_color.color && no_color.live);
        assert!(Style::for_person(true, some(""), None).color);
        let dumb = Style::for_person(true, None, some("dumb"));
        assert!(!dumb.color && !dumb.live);
        assert_eq!(
            Style::default(),
            Style {
                person: false,
                color: false,
                live: false
            }
        );
    }

    /// Painting adds escapes only with color on, and always resets.
    #[test]
    fn paints_only_with_color() {
        assert_eq!(paint_with(false, Tone::Error, "error:"), "error:");
        assert_eq!(
            paint_with(true, Tone::Error, "error:"),
            "\x1b[1;31merror:\x1b[0m"
        );
        assert!(paint_with(true, Tone::Bold, "x").ends_with("\x1b[0m"));
    }

    /// Countdowns read as people write them.
    #[test]
    fn durations_for_people() {
        assert_eq!(clock_duration(45), "45 s");
        assert_eq!(clock_duration(299), "4 min 59 s");
        assert_eq!(clock_duration(3_725), "1 h 02 min");
        let text = waiting_text("the browser login", Duration::from_secs(65));
        assert!(
            text.contains("the browser login: 1 min 05 s left"),
            "{text}"
        );
        assert!(text.contains("Ctrl-C to cancel"), "{text}");
    }
}
