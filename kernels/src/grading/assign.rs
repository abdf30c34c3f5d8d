//! `replearn-grade assign`: the student version of an instructor notebook.
//!
//! Authoring format (cell `metadata.replearn`): `id` (unique), `kind` one of
//! `solution`, `test`, `locked`, `answer`; `points` on tests and answers;
//! `hidden: true` on tests run only when grading. In a solution cell, the lines
//! between `// BEGIN SOLUTION` and `// END SOLUTION` become a stub that
//! compiles and panics with a FIXME message; a `// FIXME` comment line right
//! after `// BEGIN SOLUTION` is kept to say what to write.
use super::roles::{parse_roles, CellKind, CellRole};
use crate::notebook::{cell_label, cell_source, multiline, Notebook};
use crate::paths::short_hash;
use anyhow::{bail, Result};
use serde_json::{json, Value};

pub const BEGIN: &str = "// BEGIN SOLUTION";
pub const END: &str = "// END SOLUTION";

/// Checks an instructor notebook: unique ids, valid roles, balanced solution markers.
pub fn check_source(nb: &Notebook) -> Result<Vec<Option<CellRole>>> {
    let roles = parse_roles(nb)?;
    for (i, (cell, role)) in nb.cells().iter().zip(&roles).enumerate() {
        if let Some(r) = role.as_ref().filter(|r| r.kind == CellKind::Solution) {
            stub_solution(&cell_source(cell), &r.id)
                .map_err(|e| anyhow::anyhow!("{}: {e}", cell_label(i, cell)))?;
        } else if cell_source(cell).lines().any(|l| l.trim() == BEGIN) {
            // The solution would be handed out as it is.
            let kind = role.as_ref().map_or("none", |r| r.kind.name());
            bail!("{}: has a \"{BEGIN}\" region but its kind is \"{kind}\": set metadata.replearn.kind to \"solution\"", cell_label(i, cell));
        }
    }
    for (i, (cell, role)) in nb.cells().iter().zip(&roles).enumerate() {
        let Some(variant) = role.as_ref().and_then(|r| r.variant.as_ref()) else { continue };
        let target = roles.iter().flatten().find(|r| r.id == variant.of);
        if target.is_none_or(|r| r.kind != CellKind::Solution) {
            bail!(
                "{}: \"of\": \"{}\" is not the id of a solution cell",
                cell_label(i, cell),
                variant.of
            );
        }
    }
    if !roles
        .iter()
        .flatten()
        .any(|r| matches!(r.kind, CellKind::Test | CellKind::Answer))
    {
        bail!("the notebook has no test or answer cells (metadata.replearn.kind), so there is nothing to grade");
    }
    Ok(roles)
}

/// Replaces each solution region with a stub: the kept FIXME line (or a
/// generic one) and a panic naming the cell.
pub fn stub_solution(source: &str, id: &str) -> Result<String> {
    let mut out = Vec::new();
    let mut lines = source.lines();
    let mut regions = 0;
    while let Some(line) = lines.next() {
        if line.trim() != BEGIN {
            if line.trim() == END {
                bail!("\"{END}\" without a \"{BEGIN}\" before it");
            }
            out.push(line.to_string());
            continue;
        }
        regions += 1;
        let indent = &line[..line.len() - line.trim_start().len()];
        let mut fixme = None;
        let mut closed = false;
        for inner in lines.by_ref() {
            if inner.trim() == END {
                closed = true;
                break;
            }
            if fixme.is_none() && inner.trim_start().starts_with("// FIXME") {
                fixme = Some(inner.trim().to_string());
            }
        }
        if !closed {
            bail!("\"{BEGIN}\" is not closed by \"{END}\"");
        }
        out.push(format!(
            "{indent}{}",
            fixme.unwrap_or_else(|| "// FIXME: write your code here".into())
        ));
        out.push(format!(
            "{indent}panic!(\"FIXME: the code of cell '{id}' is not written yet\")"
        ));
    }
    if regions == 0 {
        bail!("a solution cell needs a \"{BEGIN}\" ... \"{END}\" region");
    }
    Ok(out.join("\n"))
}

/// The student version: solutions stubbed, hidden tests removed, outputs
/// cleared, locked and test cells fingerprinted (`metadata.replearn.checksum`).
pub fn assign(source: &Notebook) -> Result<Notebook> {
    let roles = check_source(source)?;
    let mut student = source.clone();
    let mut cells = Vec::new();
    let (mut hidden_tests, mut hidden_points) = (0, 0.0);
    for (cell, role) in source.cells().iter().zip(roles) {
        let mut cell = cell.clone();
        if let Some(role) = &role {
            if role.kind == CellKind::Variant {
                continue;
            }
            if role.hidden {
                hidden_tests += 1;
                hidden_points += role.points;
                continue;
            }
            let text = if role.kind == CellKind::Solution {
                stub_solution(&cell_source(&cell), &role.id)?
            } else {
                cell_source(&cell)
            };
            cell["source"] = multiline(&text);
            if matches!(role.kind, CellKind::Locked | CellKind::Test) {
                cell["metadata"]["replearn"]["checksum"] = json!(short_hash(text.as_bytes()));
            }
        }
        if cell["cell_type"] == "code" {
            cell["outputs"] = json!([]);
            cell["execution_count"] = Value::Null;
        }
        cells.push(cell);
    }
    *student.cells_mut() = cells;
    // Lets `replearn-grade check` say what it cannot run.
    let meta = &mut student.json["metadata"]["replearn"];
    if !meta.is_object() {
        *meta = json!({});
    }
    meta["hidden_tests"] = json!(hidden_tests);
    meta["hidden_points"] = json!(hidden_points);
    Ok(student)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stub_keeps_fixme_line_and_indentation() {
        let src = "fn f() -> i32 {\n    // BEGIN SOLUTION\n    // FIXME: return forty-two\n    42\n    // END SOLUTION\n}";
        let stub = stub_solution(src, "f").unwrap();
        assert_eq!(stub, "fn f() -> i32 {\n    // FIXME: return forty-two\n    panic!(\"FIXME: the code of cell 'f' is not written yet\")\n}");
        assert!(stub_solution("fn f() {}", "f")
            .unwrap_err()
            .to_string()
            .contains("needs"));
        assert!(stub_solution("// BEGIN SOLUTION\nx", "f")
            .unwrap_err()
            .to_string()
            .contains("not closed"));
    }

    #[test]
    fn malformed_metadata_names_the_cell() {
        let nb = |meta: &str, kind: &str| {
            Notebook::parse(&format!(
                r#"{{"nbformat": 4, "nbformat_minor": 5, "metadata": {{}}, "cells": [{{"cell_type": "{kind}", "source": "x", "metadata": {{"replearn": {meta}}}}}]}}"#
            ))
            .unwrap()
        };
        let err = |n: Notebook| check_source(&n).unwrap_err().to_string();
        assert!(err(nb(r#"{"kind": "test"}"#, "code")).contains("cell 1: metadata.replearn needs"));
        assert!(err(nb(r#"{"id": "a", "kind": "quiz"}"#, "code")).contains("\"quiz\""));
        assert!(err(nb(r#"{"id": "a", "kind": "answer"}"#, "code")).contains("must be markdown"));
        assert!(err(nb(r#"{"id": "a", "kind": "test"}"#, "markdown")).contains("must be code"));
        assert!(parse_roles(&nb(r#"{"id": "a", "kind": "locked"}"#, "markdown")).is_ok());
        assert!(
            err(nb(r#"{"id": "a", "kind": "locked"}"#, "markdown")).contains("nothing to grade")
        );
        assert!(err(nb(
            r#"{"id": "a", "kind": "locked", "hidden": true}"#,
            "code"
        ))
        .contains("only test cells"));
    }

    #[test]
    fn a_solution_region_outside_a_solution_cell_is_refused() {
        let nb = Notebook::parse(
            r#"{"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [
            {"cell_type": "code", "source": "fn f() -> i32 {\n    // BEGIN SOLUTION\n    42\n    // END SOLUTION\n}", "metadata": {"replearn": {"id": "f", "kind": "locked"}}},
            {"cell_type": "code", "source": "assert_eq!(f(), 42);", "metadata": {"replearn": {"id": "t", "kind": "test", "points": 1}}}]}"#,
        )
        .unwrap();
        let err = check_source(&nb).unwrap_err().to_string();
        assert!(
            err.contains("cell 1 (id \"f\")")
                && err.contains("its kind is \"locked\"")
                && err.contains("\"solution\""),
            "{err}"
        );
    }
}
