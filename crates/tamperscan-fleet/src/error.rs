use std::fmt;
use std::path::PathBuf;

/// One problem with the fleet's configuration, located to file and line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FleetError {
    /// The file (or directory) at fault.
    pub path: PathBuf,
    /// 1-based line and column, when the problem is inside a text file.
    pub line_col: Option<(usize, usize)>,
    /// What is wrong and, where possible, what to do.
    pub message: String,
}

impl FleetError {
    /// An error about `path` as a whole.
    pub fn new(path: impl Into<PathBuf>, message: impl Into<String>) -> Self {
        FleetError {
            path: path.into(),
            line_col: None,
            message: message.into(),
        }
    }

    /// An error at `line:col` of `path`.
    pub fn at(
        path: impl Into<PathBuf>,
        line_col: (usize, usize),
        message: impl Into<String>,
    ) -> Self {
        FleetError {
            path: path.into(),
            line_col: Some(line_col),
            message: message.into(),
        }
    }
}

impl fmt::Display for FleetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line_col {
            Some((line, col)) => {
                write!(f, "{}:{line}:{col}: {}", self.path.display(), self.message)
            }
            None => write!(f, "{}: {}", self.path.display(), self.message),
        }
    }
}

impl std::error::Error for FleetError {}

/// Every configuration problem found in a fleet directory (all of them, not just the first, so
/// one run tells the operator everything to fix).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct LoadError(pub Vec<FleetError>);

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}
