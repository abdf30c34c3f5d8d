//! The library's error type.
//!
//! Each variant says what it is about (a file, a tensor, a value) and what was
//! expected, so the message tells the user what to fix. Wrap an error with
//! what was being done through [`Context`], as candle-core does:
//! `Stl10::load(dir, split, None).context("loading the STL-10 stand-in")?`.
use std::fmt::Display;
use std::path::{Path, PathBuf};

/// Everything that can go wrong in replearn.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file or folder that should be there is not; `hint` says how to get it.
    #[error("{}: not found. {hint}", path.display())]
    NotFound { path: PathBuf, hint: String },
    /// A file is there but is not what was expected (truncated, another format).
    #[error("{}: not a valid {expected}: {detail}", path.display())]
    BadFormat {
        path: PathBuf,
        expected: String,
        detail: String,
    },
    /// A tensor does not have the shape an operation needs.
    #[error("{what}: got a tensor of shape {got:?}, expected {expected}")]
    Shape {
        what: String,
        got: Vec<i64>,
        expected: String,
    },
    /// A value is outside what an operation accepts.
    #[error("{what} = {value}: {expected}")]
    InvalidValue {
        what: String,
        value: String,
        expected: String,
    },
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
    /// The tokenizer failed to load or to encode.
    #[error("tokenizer: {0}")]
    Tokenizer(String),
    /// Encoding an image failed.
    #[error("image encoding: {0}")]
    Image(#[from] image::ImageError),
    /// Drawing a chart failed.
    #[error("plot: {0}")]
    Plot(String),
    /// A program the library runs (the grader) failed or could not start.
    #[error("{program}: {detail}")]
    Command { program: String, detail: String },
    /// An error, and what was being done when it happened.
    #[error("{0} is missing")]
    Missing(String),

    #[error("{context}: {source}")]
    Context {
        context: String,
        #[source]
        source: Box<Error>,
    },
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

    /// A missing file or folder, and how to get it.
    pub fn not_found(path: impl AsRef<Path>, hint: impl Into<String>) -> Self {
        Error::NotFound {
            path: path.as_ref().to_path_buf(),
            hint: hint.into(),
        }
    }

    /// A file that is not a valid `expected` (for example "STL-10 label file").
    pub fn bad_format(
        path: impl AsRef<Path>,
        expected: impl Into<String>,
        detail: impl Into<String>,
    ) -> Self {
        Error::BadFormat {
            path: path.as_ref().to_path_buf(),
            expected: expected.into(),
            detail: detail.into(),
        }
    }

    /// A tensor of shape `got` where `expected` (in words) was needed.
    pub fn shape(what: impl Into<String>, got: &[i64], expected: impl Into<String>) -> Self {
        Error::Shape {
            what: what.into(),
            got: got.to_vec(),
            expected: expected.into(),
        }
    }

    /// A value that an operation does not accept, and what it accepts.
    pub fn invalid(what: impl Into<String>, value: impl Display, expected: impl Into<String>) -> Self {
        Error::InvalidValue {
            what: what.into(),
            value: value.to_string(),
            expected: expected.into(),
        }
    }

    /// This error, with what was being done when it happened.
    pub fn context(self, context: impl Into<String>) -> Self {
        Error::Context {
            context: context.into(),
            source: Box::new(self),
        }
    }
}

/// Adds what was being done to an error: `.context("loading the text encoder")?`.
pub trait Context<T> {
    /// Wraps the error with `context`.
    fn context(self, context: impl Into<String>) -> Result<T>;
    /// Wraps the error with a context computed only when there is an error.
    fn with_context<S: Into<String>>(self, context: impl FnOnce() -> S) -> Result<T>;
}

impl<T, E: Into<Error>> Context<T> for std::result::Result<T, E> {
    fn context(self, context: impl Into<String>) -> Result<T> {
        self.map_err(|e| e.into().context(context))
    }

    fn with_context<S: Into<String>>(self, context: impl FnOnce() -> S) -> Result<T> {
        self.map_err(|e| e.into().context(context()))
    }
}

/// `None` becomes [`Error::Missing`] naming what was missing.
impl<T> Context<T> for Option<T> {
    fn context(self, context: impl Into<String>) -> Result<T> {
        self.ok_or_else(|| Error::Missing(context.into()))
    }

    fn with_context<S: Into<String>>(self, context: impl FnOnce() -> S) -> Result<T> {
        self.ok_or_else(|| Error::Missing(context().into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_option_names_what_is_missing() {
        let labels: Option<i64> = None;
        let e = labels.context("the unlabeled split's labels").unwrap_err();
        assert_eq!(e.to_string(), "the unlabeled split's labels is missing");
        assert_eq!(Some(3).context("never shown").unwrap(), 3);
    }

    #[test]
    fn messages_name_the_file_the_value_and_the_fix() {
        let e = Error::not_found("data/stl10_binary/train_X.bin", "run `make data-stl10`");
        assert_eq!(
            e.to_string(),
            "data/stl10_binary/train_X.bin: not found. run `make data-stl10`"
        );
        let e = Error::bad_format("x.bin", "STL-10 image file", "10 bytes, not a multiple of 27,648");
        assert_eq!(
            e.to_string(),
            "x.bin: not a valid STL-10 image file: 10 bytes, not a multiple of 27,648"
        );
        let e = Error::shape("center_crop", &[3, 8], "[B, C, H, W]");
        assert_eq!(
            e.to_string(),
            "center_crop: got a tensor of shape [3, 8], expected [B, C, H, W]"
        );
        let wrapped: Result<()> = Err(Error::invalid("batch_size", 0, "must be at least 1"));
        let e = wrapped.context("training the autoencoder").unwrap_err();
        assert_eq!(
            e.to_string(),
            "training the autoencoder: batch_size = 0: must be at least 1"
        );
        assert!(matches!(e, Error::Context { ref source, .. } if matches!(**source, Error::InvalidValue { .. })));
    }
}
