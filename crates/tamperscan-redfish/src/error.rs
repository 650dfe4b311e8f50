//! Why a capture or an `lspci` text could not be read at all.

/// A failure of the whole input. Problems with single resources of a capture are not errors
/// but [`crate::Issue`]s.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The capture holds no resources at all.
    #[error("the Redfish capture holds no resources")]
    EmptyCapture,
    /// Not one resource of the capture is a JSON object; the first problems are listed.
    #[error("none of the {resources} resources of the capture is a Redfish JSON object (first: {first})")]
    NoJsonResources {
        /// How many resources the capture held.
        resources: usize,
        /// The first problem found, with its path.
        first: String,
    },
    /// The `lspci` bytes are not text (not UTF-8, or a NUL byte); the offset is the first bad
    /// byte.
    #[error("lspci output is not text: {0}")]
    NotText(tamperscan_bytes::Error),
    /// The `lspci` text holds no line that starts a PCI device record.
    #[error("no PCI device record in the lspci text (first line: {first_line:?})")]
    NoDevices {
        /// The first non-blank line, cut to 80 characters.
        first_line: String,
    },
    /// More device records than any PCI hierarchy can hold.
    #[error("the lspci text lists more than {limit} devices (line {line})")]
    TooManyDevices {
        /// The bound.
        limit: usize,
        /// The 1-based line where the bound was passed.
        line: usize,
    },
}
