//! Terminal styling: ANSI colour only where a person is looking.

use std::io::IsTerminal;
use tamperscan_model::{Severity, Verdict};

/// Whether to colour output.
#[derive(Debug, Clone, Copy)]
pub struct Style {
    enabled: bool,
}

impl Style {
    /// Colour when stdout is a terminal and `NO_COLOR` is unset or empty.
    pub fn for_stdout() -> Style {
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        Style {
            enabled: !no_color && std::io::stdout().is_terminal(),
        }
    }

    fn paint(&self, code: &str, text: &str) -> String {
        if self.enabled {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }

    /// Bold text.
    pub fn bold(&self, text: &str) -> String {
        self.paint("1", text)
    }

    /// Dim text.
    pub fn dim(&self, text: &str) -> String {
        self.paint("2", text)
    }

    /// A verdict, coloured by outcome, padded to `width` before colouring.
    pub fn verdict(&self, v: Verdict, width: usize) -> String {
        let code = match v {
            Verdict::Pass => "32",
            Verdict::Suspect => "33",
            Verdict::Fail => "1;31",
        };
        self.paint(code, &format!("{:<width$}", v.name().to_uppercase()))
    }

    /// A severity, coloured.
    pub fn severity(&self, s: Severity) -> String {
        let code = match s {
            Severity::Low => "36",
            Severity::Medium => "33",
            Severity::High => "31",
            Severity::Critical => "1;31",
        };
        self.paint(code, s.name())
    }
}
