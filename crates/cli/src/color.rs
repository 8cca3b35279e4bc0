//! Colour on a terminal: `--color auto|always|never`, and `NO_COLOR`
//! (no-color.org) switching `auto` off. Renderers write plain text; the
//! words that carry the answer are painted on the way out.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, Ordering};

use clap::ValueEnum;

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum When {
    /// On a terminal, unless NO_COLOR is set
    Auto,
    Always,
    Never,
}

static ON: AtomicBool = AtomicBool::new(false);

pub fn init(when: When) {
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    let on = match when {
        When::Always => true,
        When::Never => false,
        When::Auto => {
            !no_color
                && std::io::stdout().is_terminal()
                && std::env::var("TERM").map_or(true, |t| t != "dumb")
        }
    };
    ON.store(on, Ordering::Relaxed);
}

pub fn enabled() -> bool {
    ON.load(Ordering::Relaxed)
}

const GREEN: &str = "\x1b[32m";
const YELLOW: &str = "\x1b[33m";
const RED: &str = "\x1b[31m";
const BOLD_RED: &str = "\x1b[1;31m";
const CYAN: &str = "\x1b[36m";
const RESET: &str = "\x1b[0m";

fn paint(s: &str, colour: &str) -> String {
    format!("{colour}{s}{RESET}")
}

/// A matrix mark: every port allowed, some, none.
pub fn mark(c: char) -> String {
    if !enabled() {
        return c.to_string();
    }
    match c {
        '#' => paint("#", GREEN),
        '~' => paint("~", YELLOW),
        '.' => paint(".", RED),
        c => c.to_string(),
    }
}

/// `allowed (2)`, `partly: 1 of 2`, `denied`.
pub fn verdict(s: &str) -> String {
    if !enabled() {
        return s.to_string();
    }
    if s.starts_with("allowed") {
        paint(s, GREEN)
    } else if s.starts_with("partly") {
        paint(s, YELLOW)
    } else if s.starts_with("denied") {
        paint(s, RED)
    } else {
        s.to_string()
    }
}

/// Explain's text: the ALLOWED and DENIED that open a verdict, and each
/// side's `: allowed` / `: denied`.
pub fn explain(text: &str) -> String {
    if !enabled() {
        return text.to_string();
    }
    text.lines()
        .map(|line| {
            if let Some(rest) = line.strip_prefix("ALLOWED") {
                format!("{}{rest}", paint("ALLOWED", GREEN))
            } else if let Some(rest) = line.strip_prefix("DENIED") {
                format!("{}{rest}", paint("DENIED", BOLD_RED))
            } else if let Some(head) = line.strip_suffix(": allowed") {
                format!("{head}: {}", paint("allowed", GREEN))
            } else if let Some(head) = line.strip_suffix(": denied") {
                format!("{head}: {}", paint("denied", RED))
            } else {
                line.to_string()
            }
        })
        .map(|l| l + "\n")
        .collect()
}

/// Lint's text: `file:line: SEVERITY ID name: ...`, the severity painted.
pub fn findings(text: &str) -> String {
    if !enabled() {
        return text.to_string();
    }
    text.lines()
        .map(|line| {
            for (word, colour) in [
                (" error ", BOLD_RED),
                (" warning ", YELLOW),
                (" info ", CYAN),
            ] {
                if let Some(at) = line.find(word).filter(|&i| line[..i].ends_with(':')) {
                    let w = word.trim();
                    return format!(
                        "{} {}{}",
                        &line[..at],
                        paint(w, colour),
                        &line[at + word.len() - 1..]
                    );
                }
            }
            line.to_string()
        })
        .map(|l| l + "\n")
        .collect()
}

/// Verify's text: its closing `OK`/`FAIL` and the `Missing`/`Extra` headings.
pub fn verify(text: &str) -> String {
    if !enabled() {
        return text.to_string();
    }
    text.lines()
        .map(|line| {
            let trimmed = line.trim_start();
            let indent = &line[..line.len() - trimmed.len()];
            for (word, colour) in [
                ("FAIL", BOLD_RED),
                ("OK", GREEN),
                ("Missing", RED),
                ("Extra", YELLOW),
            ] {
                if let Some(rest) = trimmed.strip_prefix(word) {
                    return format!("{indent}{}{rest}", paint(word, colour));
                }
            }
            line.to_string()
        })
        .map(|l| l + "\n")
        .collect()
}
