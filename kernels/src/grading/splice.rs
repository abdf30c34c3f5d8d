//! Puts a student's solution cells, found by id, into a pristine copy of the
//! instructor's notebook. Whatever else the student changed (locked or test
//! cells edited, cells deleted, duplicated, reordered, split or retyped, cells
//! added) changes nothing but what they wrote in solution cells, and each such
//! change is reported to them.
use super::assign::stub_solution;
use super::roles::{CellKind, CellRole};
use crate::notebook::{cell_source, multiline, replearn_meta, Notebook};
use std::collections::{BTreeMap, HashSet};

/// A written answer, for grading by hand.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    pub id: String,
    pub points: f64,
    pub text: String,
}

/// The notebook to grade, and what the student should know about how it was made.
#[derive(Debug, Clone)]
pub struct Spliced {
    pub notebook: Notebook,
    /// Student-facing notes on what was taken from where.
    pub notes: Vec<String>,
    pub answers: Vec<Answer>,
}

/// The submission's cells carrying replearn ids, in the submission's order.
fn cells_by_id(submission: &Notebook) -> BTreeMap<String, Vec<(String, String)>> {
    let mut map: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
    for cell in submission.cells() {
        let id = replearn_meta(cell)
            .and_then(|m| m.get("id"))
            .and_then(|v| v.as_str());
        if let Some(id) = id {
            let kind = cell["cell_type"].as_str().unwrap_or("?").to_string();
            map.entry(id.to_string())
                .or_default()
                .push((cell_source(cell), kind));
        }
    }
    map
}

/// Names of the functions and types a piece of Rust defines (`fn f`, `struct S`, ...).
pub fn defined_items(code: &str) -> HashSet<String> {
    const KEYWORDS: [&str; 7] = ["fn", "struct", "enum", "trait", "type", "const", "static"];
    let words: Vec<&str> = code
        .split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .filter(|w| !w.is_empty())
        .collect();
    words
        .windows(2)
        .filter(|w| KEYWORDS.contains(&w[0]))
        .map(|w| w[1].to_string())
        .collect()
}

/// One text from the cells a student made out of one solution cell: parts
/// that define different items are joined (a split cell); a part that
/// defines again what an earlier part defined replaces it (an edited copy,
/// which is also what running the notebook top to bottom does).
pub fn merge_parts(parts: &[String]) -> String {
    let mut kept: Vec<&String> = Vec::new();
    for part in parts {
        let items = defined_items(part);
        let redefines = kept.iter().any(|k| !defined_items(k).is_disjoint(&items));
        if redefines || kept.iter().any(|k| k.trim() == part.trim()) {
            kept.retain(|k| defined_items(k).is_disjoint(&items) && k.trim() != part.trim());
        }
        kept.push(part);
    }
    kept.iter()
        .map(|s| s.trim_end())
        .collect::<Vec<_>>()
        .join("\n")
}

/// The graded notebook: the source with each solution cell's code taken from
/// the submission (or the stub, if the student's cell is gone).
pub fn splice(source: &Notebook, roles: &[Option<CellRole>], submission: &Notebook) -> Spliced {
    let by_id = cells_by_id(submission);
    let mut notes = Vec::new();
    let mut answers = Vec::new();
    let mut graded = source.clone();
    let source_texts: HashSet<String> = source
        .cells()
        .iter()
        .map(|c| cell_source(c).trim().to_string())
        .collect();
    for (cell, role) in graded.cells_mut().iter_mut().zip(roles) {
        let Some(role) = role else { continue };
        let theirs = by_id.get(&role.id);
        match role.kind {
            CellKind::Solution => {
                let code = match theirs {
                    None => {
                        notes.push(format!(
                            "Solution cell '{}' is not in your notebook (deleted, or its metadata removed): it was graded as not written.",
                            role.id
                        ));
                        stub_solution(&cell_source(cell), &role.id).unwrap_or_default()
                    }
                    Some(parts) => {
                        if parts.len() > 1 {
                            notes.push(format!(
                                "Solution cell '{}' appears {} times in your notebook: the parts were put back together in order, \
                                 and a part that defines again what an earlier part defined replaced it.",
                                role.id,
                                parts.len()
                            ));
                        }
                        if parts.iter().any(|(_, kind)| kind != "code") {
                            notes.push(format!("Solution cell '{}' was changed to a non-code cell: it was graded as code.", role.id));
                        }
                        merge_parts(&parts.iter().map(|(s, _)| s.clone()).collect::<Vec<_>>())
                    }
                };
                cell["source"] = multiline(&code);
            }
            CellKind::Locked | CellKind::Test if !role.hidden => {
                let original = cell_source(cell);
                match theirs {
                    Some(parts) if parts.iter().any(|(s, _)| s.trim() != original.trim()) => notes.push(format!(
                        "You changed {} cell '{}': your changes were not used; it ran as the assignment gives it.",
                        role.kind.name(), role.id
                    )),
                    None if cell["cell_type"] == "code" => notes.push(format!(
                        "{} cell '{}' is not in your notebook: it ran as the assignment gives it.",
                        if role.kind == CellKind::Test { "Test" } else { "Locked" },
                        role.id
                    )),
                    _ => {}
                }
            }
            CellKind::Answer => {
                let text = theirs
                    .map(|parts| {
                        parts
                            .iter()
                            .map(|(s, _)| s.trim_end())
                            .collect::<Vec<_>>()
                            .join("\n\n")
                    })
                    .unwrap_or_default();
                if theirs.is_none() {
                    notes.push(format!(
                        "Answer cell '{}' is not in your notebook: no written answer was found.",
                        role.id
                    ));
                }
                answers.push(Answer {
                    id: role.id.clone(),
                    points: role.points,
                    text,
                });
            }
            _ => {}
        }
    }
    let added = submission
        .cells()
        .iter()
        .filter(|c| c["cell_type"] == "code" && replearn_meta(c).is_none())
        .filter(|c| {
            !cell_source(c).trim().is_empty() && !source_texts.contains(cell_source(c).trim())
        })
        .count();
    if added > 0 {
        notes.push(format!(
            "{added} code cell(s) you added or changed outside the solution cells were not run: only solution cells are graded, \
             so put helper code you need inside them."
        ));
    }
    Spliced {
        notebook: graded,
        notes,
        answers,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_parts_are_joined_and_edited_copies_replace() {
        let split = merge_parts(&[
            "fn a() -> i32 { 1 }".into(),
            "fn b() -> i32 { a() + 1 }\n".into(),
        ]);
        assert_eq!(split, "fn a() -> i32 { 1 }\nfn b() -> i32 { a() + 1 }");
        let copy = merge_parts(&["fn a() -> i32 { 1 }".into(), "fn a() -> i32 { 2 }".into()]);
        assert_eq!(copy, "fn a() -> i32 { 2 }");
        let same = merge_parts(&["let x = 1;".into(), "let x = 1;".into()]);
        assert_eq!(same, "let x = 1;");
        let items = defined_items("pub fn loss(x: &Tensor) {} struct S; let fnord = 1;");
        assert_eq!(items, HashSet::from(["loss".to_string(), "S".to_string()]));
    }
}
