//! The authoring format: what each cell of an instructor notebook is.
//!
//! Cell `metadata.replearn`: `id` (unique), `kind` (see [`CellKind`]),
//! `points` on tests and answers, `hidden: true` on tests run only when grading.
use crate::notebook::{cell_label, replearn_meta, Notebook};
use anyhow::{bail, Result};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::HashSet;

/// What a cell is in the authoring format (`metadata.replearn.kind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CellKind {
    /// Code the student writes, between `// BEGIN SOLUTION` and `// END SOLUTION`.
    Solution,
    /// Graded code: passes when it runs to its end.
    Test,
    /// Given code or text the student should not change (the default).
    Locked,
    /// A written answer (markdown), graded by hand.
    Answer,
}

impl CellKind {
    pub const ALL: [CellKind; 4] = [CellKind::Solution, CellKind::Test, CellKind::Locked, CellKind::Answer];

    /// The name used in the metadata.
    pub fn name(self) -> &'static str {
        match self {
            CellKind::Solution => "solution",
            CellKind::Test => "test",
            CellKind::Locked => "locked",
            CellKind::Answer => "answer",
        }
    }
}

/// The role of a cell in the authoring format.
#[derive(Debug, Clone, PartialEq)]
pub struct CellRole {
    pub id: String,
    pub kind: CellKind,
    pub points: f64,
    pub hidden: bool,
}

/// Reads a cell's role; `Ok(None)` for ordinary cells, an error naming the cell
/// for malformed metadata.
pub fn cell_role(index: usize, cell: &Value) -> Result<Option<CellRole>> {
    let Some(meta) = replearn_meta(cell) else {
        return Ok(None);
    };
    let label = cell_label(index, cell);
    let Some(id) = meta
        .get("id")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
    else {
        bail!("{label}: metadata.replearn needs a non-empty string \"id\"");
    };
    let kind = match meta.get("kind") {
        None => CellKind::Locked,
        Some(k) => match serde_json::from_value::<CellKind>(k.clone()) {
            Ok(kind) => kind,
            Err(_) => bail!(
                "{label}: kind {k} is not one of {:?}",
                CellKind::ALL.map(CellKind::name)
            ),
        },
    };
    let points = match meta.get("points") {
        None => 0.0,
        Some(p) => match p.as_f64() {
            Some(v) if v >= 0.0 => v,
            _ => bail!("{label}: points must be a number >= 0, got {p}"),
        },
    };
    let hidden = meta.get("hidden").and_then(Value::as_bool).unwrap_or(false);
    if hidden && kind != CellKind::Test {
        bail!("{label}: only test cells can be hidden");
    }
    let is_code = cell["cell_type"] == "code";
    match kind {
        CellKind::Answer if is_code => bail!("{label}: answer cells must be markdown (a written answer)"),
        CellKind::Solution | CellKind::Test if !is_code => {
            bail!("{label}: {} cells must be code", kind.name())
        }
        _ => {}
    }
    Ok(Some(CellRole {
        id: id.to_string(),
        kind,
        points,
        hidden,
    }))
}

/// Every cell's role, with unique ids checked (solution markers are not:
/// a student's notebook has none).
pub fn parse_roles(nb: &Notebook) -> Result<Vec<Option<CellRole>>> {
    let mut seen = HashSet::new();
    let mut roles = Vec::new();
    for (i, cell) in nb.cells().iter().enumerate() {
        let role = cell_role(i, cell)?;
        if let Some(r) = &role {
            if !seen.insert(r.id.clone()) {
                bail!(
                    "{}: the id \"{}\" is used twice; ids must be unique",
                    cell_label(i, cell),
                    r.id
                );
            }
        }
        roles.push(role);
    }
    Ok(roles)
}

