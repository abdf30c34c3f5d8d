//! Hidden tests: their names and messages reach the student, their code never does.
use crate::cells::runner::Failure;

/// A hidden test's failure, with every trace of its source removed: compile
/// errors quote the source, so only their first line stays; panic messages
/// lose any line that repeats the test's code (`assertion failed: <expr>`).
pub fn redact_hidden(text: &str, source: &str, failure: &Failure) -> String {
    if let Failure::Compile(_) = failure {
        return "does not compile (the details of a hidden test are not shown; check that your code has the names and types the assignment asks for)".into();
    }
    let squash = |s: &str| s.split_whitespace().collect::<String>();
    // Messages are the test's string literals: those may be shown.
    let source = without_string_literals(source);
    let code = squash(&source);
    let code_lines: Vec<String> = source
        .lines()
        .map(squash)
        .filter(|l| l.len() >= 12)
        .collect();
    text.lines()
        .map(|line| {
            let core = line
                .trim()
                .trim_start_matches("panicked:")
                .trim()
                .trim_start_matches("assertion failed:")
                .trim();
            let squashed = squash(core);
            let leaks = (squashed.len() >= 6 && code.contains(&squashed))
                || code_lines.iter().any(|l| squashed.contains(l.as_str()));
            if leaks {
                "[a line from the hidden test's code is not shown]".to_string()
            } else {
                line.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// `source` with the contents of its string literals removed (quotes kept).
fn without_string_literals(source: &str) -> String {
    let mut out = String::with_capacity(source.len());
    let mut in_string = false;
    let mut escaped = false;
    for c in source.chars() {
        if in_string {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
                out.push(c);
            }
        } else {
            if c == '"' {
                in_string = true;
            }
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hidden_sources_never_reach_the_message() {
        let source =
            "let secret = hidden_helper(3);\nassert!(secret_value(41) == 42, \"off by one\");";
        let panic = Failure::Panic("assertion failed: secret_value(41) == 42".into());
        let text = redact_hidden(&panic.to_string(), source, &panic);
        assert!(!text.contains("secret_value"), "{text}");
        let custom = Failure::Panic("off by one".into());
        assert_eq!(
            redact_hidden(&custom.to_string(), source, &custom),
            "panicked: off by one"
        );
        let compile = Failure::Compile(
            "error: cannot find `hidden_helper`\n   1 | let secret = hidden_helper(3);".into(),
        );
        assert!(!redact_hidden(&compile.to_string(), source, &compile).contains("hidden_helper"));
    }

}
