//! What a panicking cell tells the kernel and the grader.
//!
//! The kernel's start-up calls [`install_panic_report`]. From then on a panic
//! prints one line on stdout (a `PanicReport` as JSON) instead of Rust's
//! default report on stderr: stdout reaches the kernel in order with the
//! cell's output and before the cell ends, so the kernel can turn the cell
//! into an error with the message and the line of the student's cell, and
//! nothing of it (no "note: run with `RUST_BACKTRACE=1`") arrives late, in
//! the next cell's output.
use crate::protocol::PanicReport;

/// Installs the panic hook of notebook processes (the kernel's start-up
/// script calls it; a notebook has no reason to).
///
/// Cells link the standard library dynamically, so the hook set here holds
/// for every later cell; the code it points to stays loaded (evcxr never
/// unloads a cell).
pub fn install_panic_report() {
    std::panic::set_hook(Box::new(|info| {
        let message = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "a panic without a message".into());
        let (file, line, column) = info
            .location()
            .map_or((String::new(), 0, 0), |l| (l.file().to_string(), l.line(), l.column()));
        let source_line = (file == "src/lib.rs")
            .then(|| cell_source_line(line))
            .flatten();
        let report = PanicReport {
            message,
            file,
            line,
            column,
            source_line,
        };
        println!("{}", report.to_line());
    }));
}

/// Line `line` of the cell being run, from the source evcxr compiled it from.
fn cell_source_line(line: u32) -> Option<String> {
    let dir = std::env::var_os("EVCXR_TMPDIR")?;
    let text = std::fs::read_to_string(std::path::Path::new(&dir).join("src/lib.rs")).ok()?;
    text.lines().nth(line.checked_sub(1)? as usize).map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_report_names_the_cells_line_or_the_library_file() {
        let in_cell = PanicReport {
            message: "boom".into(),
            file: "src/lib.rs".into(),
            line: 40,
            column: 5,
            source_line: Some("    assert!(x > 2, \"boom\");".into()),
        };
        let cell = "let x = 1;\nassert!(x > 2, \"boom\");\n";
        assert_eq!(in_cell.location(cell), "at line 2 of the cell: assert!(x > 2, \"boom\");");
        assert_eq!(PanicReport::parse_line(&in_cell.to_line()), Some(in_cell));
        let in_library = PanicReport {
            message: "shape mismatch".into(),
            file: "/root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/tch-0.24.0/src/wrappers/tensor_generated.rs".into(),
            line: 5583,
            column: 22,
            source_line: None,
        };
        assert_eq!(
            in_library.location(cell),
            "inside tch-0.24.0/src/wrappers/tensor_generated.rs:5583, called from the cell"
        );
        assert_eq!(PanicReport::parse_line("REPLEARN_PANIC not json"), None);
    }
}
