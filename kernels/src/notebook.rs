//! Jupyter notebooks (nbformat 4) as JSON, keeping every field we do not touch.
use anyhow::{bail, Context, Result};
use serde_json::{json, Map, Value};
use std::path::Path;

/// A notebook read from disk.
#[derive(Debug, Clone)]
pub struct Notebook {
    pub json: Value,
}

impl Notebook {
    /// Reads and checks a notebook; the error names the file and what is wrong.
    pub fn read(path: &Path) -> Result<Notebook> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read notebook {}", path.display()))?;
        Self::parse(&text)
            .with_context(|| format!("{} is not a valid Jupyter notebook", path.display()))
    }

    /// Parses notebook JSON (nbformat 4).
    pub fn parse(text: &str) -> Result<Notebook> {
        let json: Value =
            serde_json::from_str(text).context("not JSON (was the file saved completely?)")?;
        match json.get("nbformat").and_then(Value::as_u64) {
            Some(4) => {}
            Some(v) => {
                bail!("nbformat {v} is not supported; save it as nbformat 4 (JupyterLab does)")
            }
            None => bail!("no \"nbformat\" field"),
        }
        let Some(cells) = json.get("cells").and_then(Value::as_array) else {
            bail!("no \"cells\" list")
        };
        for (i, cell) in cells.iter().enumerate() {
            if cell.get("cell_type").and_then(Value::as_str).is_none() {
                bail!("cell {} has no \"cell_type\"", i + 1);
            }
        }
        Ok(Notebook { json })
    }

    pub fn cells(&self) -> &[Value] {
        self.json["cells"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }

    pub fn cells_mut(&mut self) -> &mut Vec<Value> {
        self.json["cells"].as_array_mut().expect("checked in parse")
    }

    /// Writes the notebook atomically (a temporary file renamed into place).
    pub fn write(&self, path: &Path) -> Result<()> {
        let text = serde_json::to_string_pretty(&self.json)? + "\n";
        write_atomic(path, text.as_bytes())
    }
}

/// Writes `bytes` to `path` through a temporary file in the same folder, so a
/// reader never sees half a file.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let name = path
        .file_name()
        .context("output path has no file name")?
        .to_string_lossy();
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    std::fs::write(&tmp, bytes).with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("writing {}", path.display()))
}

/// A cell's source as one string (nbformat allows a string or a list of lines).
pub fn cell_source(cell: &Value) -> String {
    match &cell["source"] {
        Value::String(s) => s.clone(),
        Value::Array(lines) => lines.iter().filter_map(Value::as_str).collect(),
        _ => String::new(),
    }
}

pub fn is_code(cell: &Value) -> bool {
    cell["cell_type"] == "code"
}

/// A cell's `metadata.replearn` object, if any.
pub fn replearn_meta(cell: &Value) -> Option<&Map<String, Value>> {
    cell.get("metadata")?.get("replearn")?.as_object()
}

/// How messages name a cell: `cell 4 (id "loss")`, 1-based over all cells.
pub fn cell_label(index: usize, cell: &Value) -> String {
    let id = replearn_meta(cell)
        .and_then(|m| m.get("id"))
        .and_then(Value::as_str);
    match id {
        Some(id) => format!("cell {} (id \"{id}\")", index + 1),
        None => format!("cell {}", index + 1),
    }
}

/// Text as nbformat stores it: a list of lines, each but the last ending in `\n`.
pub fn multiline(text: &str) -> Value {
    let lines: Vec<Value> = text
        .split_inclusive('\n')
        .map(|l| Value::String(l.to_string()))
        .collect();
    Value::Array(lines)
}

pub fn stream_output(name: &str, text: &str) -> Value {
    json!({"output_type": "stream", "name": name, "text": multiline(text)})
}

pub fn error_output(ename: &str, evalue: &str, traceback: &str) -> Value {
    let tb: Vec<Value> = traceback
        .lines()
        .map(|l| Value::String(l.to_string()))
        .collect();
    json!({"output_type": "error", "ename": ename, "evalue": evalue, "traceback": tb})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_rejects_what_is_not_a_notebook() {
        assert!(Notebook::parse("{")
            .unwrap_err()
            .to_string()
            .contains("not JSON"));
        assert!(Notebook::parse(r#"{"nbformat": 3, "cells": []}"#)
            .unwrap_err()
            .to_string()
            .contains("nbformat 3"));
        assert!(Notebook::parse(r#"{"nbformat": 4}"#)
            .unwrap_err()
            .to_string()
            .contains("cells"));
        let nb = Notebook::parse(r#"{"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [{"cell_type": "code", "source": ["a\n", "b"], "metadata": {"replearn": {"id": "x"}}}]}"#).unwrap();
        assert_eq!(cell_source(&nb.cells()[0]), "a\nb");
        assert_eq!(cell_label(0, &nb.cells()[0]), "cell 1 (id \"x\")");
    }

    #[test]
    fn multiline_keeps_newlines() {
        assert_eq!(multiline("a\nb"), json!(["a\n", "b"]));
        assert_eq!(multiline(""), json!([]));
    }
}
