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
    /// Another solution to a solution cell (`of`), right or wrong, that
    /// `validate` grades to prove the tests: never run when grading, never
    /// in the student version.
    Variant,
}

impl CellKind {
    pub const ALL: [CellKind; 5] = [
        CellKind::Solution,
        CellKind::Test,
        CellKind::Locked,
        CellKind::Answer,
        CellKind::Variant,
    ];

    /// The name used in the metadata.
    pub fn name(self) -> &'static str {
        match self {
            CellKind::Solution => "solution",
            CellKind::Test => "test",
            CellKind::Locked => "locked",
            CellKind::Answer => "answer",
            CellKind::Variant => "variant",
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
    /// For a variant cell: what it claims to be.
    pub variant: Option<Variant>,
}

/// A variant solution (`kind: "variant"`): its metadata says which solution
/// cell it replaces (`of`), whether it is right (`correct`), how many points
/// a wrong one must lose (`loses`), why (`why`), and whether `validate`
/// reruns only the tests after it (`rerun: "tests"`, the default) or every
/// cell after it (`rerun: "all"`, for tests that read state the cells in
/// between compute from the solution).
#[derive(Debug, Clone, PartialEq)]
pub struct Variant {
    pub of: String,
    pub correct: bool,
    pub loses: f64,
    pub why: String,
    pub rerun_all: bool,
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
        CellKind::Solution | CellKind::Test | CellKind::Variant if !is_code => {
            bail!("{label}: {} cells must be code", kind.name())
        }
        _ => {}
    }
    let variant = if kind == CellKind::Variant {
        Some(variant_of(&label, meta)?)
    } else {
        None
    };
    Ok(Some(CellRole {
        id: id.to_string(),
        kind,
        points,
        hidden,
        variant,
    }))
}

fn variant_of(label: &str, meta: &serde_json::Map<String, Value>) -> Result<Variant> {
    let Some(of) = meta.get("of").and_then(Value::as_str) else {
        bail!("{label}: a variant needs \"of\": the id of the solution cell it replaces");
    };
    let Some(correct) = meta.get("correct").and_then(Value::as_bool) else {
        bail!("{label}: a variant needs \"correct\": true (it must get full marks) or false (it must lose points)");
    };
    let loses = meta.get("loses").and_then(Value::as_f64).unwrap_or(0.0);
    if !correct && !(loses > 0.0) {
        bail!("{label}: a wrong variant needs \"loses\": the points it must lose (more than 0)");
    }
    if correct && loses != 0.0 {
        bail!("{label}: a correct variant loses no points; remove \"loses\" or set \"correct\": false");
    }
    let rerun_all = match meta.get("rerun").and_then(Value::as_str) {
        None | Some("tests") => false,
        Some("all") => true,
        Some(other) => bail!("{label}: rerun must be \"tests\" or \"all\", got \"{other}\""),
    };
    Ok(Variant {
        of: of.to_string(),
        correct,
        loses,
        why: meta.get("why").and_then(Value::as_str).unwrap_or_default().to_string(),
        rerun_all,
    })
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

