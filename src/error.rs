//! The library's error type.
use std::path::PathBuf;

/// Everything that can go wrong in replearn, with enough context to fix it.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An error reported by libtorch.
    #[error("libtorch: {0}")]
    Torch(#[from] tch::TchError),
    /// Reading or writing a file failed.
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A tensor does not have the shape an operation needs.
    #[error("{what}: got a tensor of shape {got:?}, expected {expected}")]
    Shape {
        what: &'static str,
        got: Vec<i64>,
        expected: &'static str,
    },
    /// A value is outside the range an operation accepts.
    #[error("{0}")]
    InvalidArgument(String),
    /// Encoding an image failed.
    #[error("image encoding: {0}")]
    Image(#[from] image::ImageError),
    /// Drawing a chart failed.
    #[error("plot: {0}")]
    Plot(String),
}

/// `Result` with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// Wraps an I/O error with the path it concerns.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }
}
