//! A rendered figure: PNG bytes or SVG text, shown inline in a notebook or saved to a file.
use crate::{Error, Result};
use base64::Engine;
use std::path::Path;

/// A finished picture. Returned by every visualiser in [`crate::viz`].
///
/// In a notebook, a cell whose last expression is a `Figure` shows it inline;
/// elsewhere, [`Figure::save`] writes it (`.png` or `.svg`, matching the kind).
#[derive(Clone, PartialEq)]
pub enum Figure {
    /// A PNG file's bytes.
    Png(Vec<u8>),
    /// An SVG document.
    Svg(String),
}

impl Figure {
    /// The MIME type Jupyter uses for this figure.
    pub fn mime_type(&self) -> &'static str {
        match self {
            Figure::Png(_) => "image/png",
            Figure::Svg(_) => "image/svg+xml",
        }
    }

    /// The file extension that matches the content.
    pub fn extension(&self) -> &'static str {
        match self {
            Figure::Png(_) => "png",
            Figure::Svg(_) => "svg",
        }
    }

    /// Writes the figure to `path`; the extension must match the kind (`png` or `svg`).
    pub fn save(&self, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
        if !ext.eq_ignore_ascii_case(self.extension()) {
            return Err(Error::invalid(
                "the file name",
                path.display(),
                format!("this figure is {}; save it with the extension .{}", self.mime_type(), self.extension()),
            ));
        }
        let bytes: &[u8] = match self {
            Figure::Png(b) => b,
            Figure::Svg(s) => s.as_bytes(),
        };
        std::fs::write(path, bytes).map_err(|e| Error::io(path, e))
    }

    /// The block evcxr reads from a cell's stdout to show rich output.
    pub fn evcxr_block(&self) -> String {
        let body = match self {
            Figure::Png(b) => base64::engine::general_purpose::STANDARD.encode(b),
            Figure::Svg(s) => s.clone(),
        };
        format!(
            "EVCXR_BEGIN_CONTENT {}\n{}\nEVCXR_END_CONTENT",
            self.mime_type(),
            body
        )
    }
}

/// `text` with the five characters XML reserves escaped, for SVG text and attributes.
pub(crate) fn svg_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&apos;")
}

/// Short, without the bytes. evcxr falls back to `Debug` when its first try to
/// compile a cell's last expression fails (for example when that expression
/// moves a variable the cell defined), so the text says how to get the picture.
impl std::fmt::Debug for Figure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let size = match self {
            Figure::Png(b) => b.len(),
            Figure::Svg(s) => s.len(),
        };
        write!(
            f,
            "Figure({}, {size} bytes; to show it, end the cell with a variable that holds it: `let figure = ...; figure`)",
            self.mime_type()
        )
    }
}

/// Values that show themselves inline in the notebook (evcxr calls `evcxr_display`
/// on a cell's last expression). In the prelude, so that tensors display as images.
pub trait Display {
    /// Prints the value's rich representation for evcxr.
    fn evcxr_display(&self);
}

impl Display for Figure {
    fn evcxr_display(&self) {
        println!("{}", self.evcxr_block());
    }
}

/// Shows a rendered figure, or the error that kept it from rendering: what
/// every chart's `evcxr_display` does with its `render()`.
pub(crate) fn show(rendered: crate::Result<Figure>) {
    match rendered {
        Ok(fig) => fig.evcxr_display(),
        Err(e) => eprintln!("{e}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn save_checks_extension_and_writes_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let svg = Figure::Svg("<svg/>".into());
        let err = svg.save(dir.path().join("a.png")).unwrap_err().to_string();
        assert!(err.contains(".svg"), "{err}");
        svg.save(dir.path().join("a.svg")).unwrap();
        assert_eq!(
            std::fs::read_to_string(dir.path().join("a.svg")).unwrap(),
            "<svg/>"
        );
    }

    #[test]
    fn debug_is_short_and_says_how_to_show_the_figure() {
        let text = format!("{:?}", Figure::Png(vec![0; 5000]));
        assert!(
            text.starts_with("Figure(image/png, 5000 bytes;") && text.contains("let figure"),
            "{text}"
        );
        assert!(text.len() < 200);
    }

    #[test]
    fn evcxr_block_base64_encodes_png() {
        let block = Figure::Png(vec![1, 2, 3]).evcxr_block();
        assert_eq!(
            block,
            "EVCXR_BEGIN_CONTENT image/png\nAQID\nEVCXR_END_CONTENT"
        );
    }
}
