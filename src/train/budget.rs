//! Training budgets: the original assignment's, or a quick one that runs in
//! minutes on a laptop's CPU.
use crate::protocol::env;
use std::fmt;

/// Which budget an assignment trains with; chosen in the notebook's first cell.
///
/// `Auto` is the original's on a GPU and the quick one on a CPU, so that a
/// student who opens an assignment on a laptop never starts an hours-long run
/// by accident. `REPLEARN_QUICK` (set by `make test`) and `REPLEARN_GRADING`
/// (set while a notebook is graded) force the quick budget whatever the cell says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Budget {
    Auto,
    Quick,
    Original,
}

impl Budget {
    /// The budget in force: `Quick` or `Original`, never `Auto`.
    pub fn resolve(self) -> Budget {
        if forced_quick().is_some() {
            return Budget::Quick;
        }
        match self {
            Budget::Auto if crate::device().is_cuda() => Budget::Original,
            Budget::Auto => Budget::Quick,
            other => other,
        }
    }

    /// Whether the budget in force is the quick one.
    pub fn is_quick(self) -> bool {
        self.resolve() == Budget::Quick
    }

    /// Why [`Budget::resolve`] gives what it gives, in a few words.
    pub fn reason(self) -> String {
        if let Some(var) = forced_quick() {
            return format!("{var} is set, which forces the quick budget");
        }
        match self {
            Budget::Auto if crate::device().is_cuda() => "Budget::Auto on a GPU".into(),
            Budget::Auto => "Budget::Auto without a GPU".into(),
            other => format!("Budget::{other:?} in the set-up cell"),
        }
    }
}

impl fmt::Display for Budget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.resolve() {
            Budget::Quick => write!(f, "quick"),
            _ => write!(f, "the original's"),
        }
    }
}

/// The variable that forces the quick budget, if one is set.
fn forced_quick() -> Option<&'static str> {
    [env::QUICK, env::GRADING]
        .into_iter()
        .find(|v| std::env::var_os(v).is_some_and(|x| !x.is_empty() && x != "0"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quick_and_original_resolve_to_themselves_unless_forced() {
        // The test harness may run with REPLEARN_QUICK set (make test does not,
        // but a developer might): then everything is quick.
        if forced_quick().is_some() {
            assert_eq!(Budget::Original.resolve(), Budget::Quick);
            return;
        }
        assert_eq!(Budget::Quick.resolve(), Budget::Quick);
        assert_eq!(Budget::Original.resolve(), Budget::Original);
        let auto = if crate::device().is_cuda() { Budget::Original } else { Budget::Quick };
        assert_eq!(Budget::Auto.resolve(), auto);
        assert!(Budget::Original.reason().contains("set-up cell"));
    }
}
