//! Partial credit: a test cell that ends with a [`Credit`] earns that share of
//! its points, with a message for the student.
use serde::{Deserialize, Serialize};

use crate::protocol::{env, CreditRecord, CREDIT_MIME};

/// A share of a test cell's points, in `[0, 1]`, and why.
///
/// End a test cell with a `Credit` value to grade it in steps instead of all
/// or nothing. A test that panics still earns nothing; a test that ends
/// without a `Credit` earns all its points.
///
/// ```
/// use replearn::grading::Credit;
/// let accuracy = 0.72;
/// let credit = Credit::linear(accuracy, 0.5, 0.9, format!("k-NN accuracy {accuracy:.2}"));
/// assert!((credit.fraction() - 0.55).abs() < 1e-12);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Credit {
    fraction: f64,
    message: String,
}

impl Credit {
    /// `fraction` of the points; values outside `[0, 1]` are clamped and NaN counts as 0.
    pub fn new(fraction: f64, message: impl Into<String>) -> Self {
        let fraction = if fraction.is_nan() {
            0.0
        } else {
            fraction.clamp(0.0, 1.0)
        };
        Credit {
            fraction,
            message: message.into(),
        }
    }

    /// All the points.
    pub fn full(message: impl Into<String>) -> Self {
        Self::new(1.0, message)
    }

    /// None of the points (the test still runs to its end).
    pub fn none(message: impl Into<String>) -> Self {
        Self::new(0.0, message)
    }

    /// Nothing at or below `zero_at`, everything at or above `full_at`, linear
    /// between. `full_at < zero_at` grades "lower is better" (a loss).
    pub fn linear(value: f64, zero_at: f64, full_at: f64, message: impl Into<String>) -> Self {
        let fraction = if zero_at == full_at {
            f64::from(u8::from(value >= full_at))
        } else {
            (value - zero_at) / (full_at - zero_at)
        };
        Self::new(fraction, message)
    }

    /// The share of the points, in `[0, 1]`.
    pub fn fraction(&self) -> f64 {
        self.fraction
    }

    pub fn message(&self) -> &str {
        &self.message
    }

    /// Shown in a notebook as text; under the grader, also as [`CREDIT_MIME`]
    /// with the run's token.
    pub fn evcxr_display(&self) {
        println!("EVCXR_BEGIN_CONTENT text/plain\n{self}\nEVCXR_END_CONTENT");
        // A credit counts only with the grader's per-run token, so text a
        // submission prints can never pose as one.
        if let Ok(token) = std::env::var(env::CREDIT_TOKEN) {
            let record = CreditRecord {
                fraction: self.fraction,
                message: self.message.clone(),
                token,
            };
            let json = serde_json::to_string(&record).expect("a credit serialises");
            println!("EVCXR_BEGIN_CONTENT {CREDIT_MIME}\n{json}\nEVCXR_END_CONTENT");
        }
    }
}

impl std::fmt::Display for Credit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "credit {:.0}%: {}", self.fraction * 100.0, self.message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fractions_are_clamped_and_linear_is_piecewise() {
        assert_eq!(Credit::new(1.5, "").fraction(), 1.0);
        assert_eq!(Credit::new(-0.5, "").fraction(), 0.0);
        assert_eq!(Credit::new(f64::NAN, "").fraction(), 0.0);
        assert_eq!(Credit::linear(0.4, 0.5, 0.9, "").fraction(), 0.0);
        assert!((Credit::linear(0.8, 0.5, 0.9, "").fraction() - 0.75).abs() < 1e-12);
        assert_eq!(Credit::linear(0.95, 0.5, 0.9, "").fraction(), 1.0);
        // Lower is better: a loss of 0.2 between 1.0 (nothing) and 0.0 (everything).
        assert!((Credit::linear(0.2, 1.0, 0.0, "").fraction() - 0.8).abs() < 1e-12);
        assert_eq!(Credit::linear(3.0, 3.0, 3.0, "").fraction(), 1.0);
        assert_eq!(
            Credit::new(0.25, "half of half").to_string(),
            "credit 25%: half of half"
        );
    }
}
