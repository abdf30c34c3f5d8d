//! Progress of long work: a live bar in a terminal, periodic lines in a notebook.
use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;
use std::time::Instant;

/// Shows how far a loop is, its latest loss and its rate.
///
/// In a terminal it draws an `indicatif` bar; elsewhere (a notebook cell, a
/// log) it prints a line to stderr about every tenth of the work, so output
/// stays short.
#[derive(Debug)]
pub struct Progress {
    label: String,
    total: u64,
    done: u64,
    next_report: u64,
    started: Instant,
    last_loss: Option<f64>,
    bar: Option<ProgressBar>,
}

impl Progress {
    /// A progress display for `total` steps.
    pub fn new(label: impl Into<String>, total: u64) -> Self {
        let label = label.into();
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = ProgressBar::new(total);
            bar.set_style(
                ProgressStyle::with_template(
                    "{prefix} [{bar:30}] {pos}/{len} {msg} {per_sec} eta {eta}",
                )
                .expect("valid template")
                .progress_chars("=> "),
            );
            bar.set_prefix(label.clone());
            bar
        });
        Progress {
            label,
            total,
            done: 0,
            next_report: 0,
            started: Instant::now(),
            last_loss: None,
            bar,
        }
    }

    /// Records one finished step and its loss.
    pub fn step(&mut self, loss: f64) {
        self.done += 1;
        self.last_loss = Some(loss);
        match &self.bar {
            Some(bar) => {
                bar.set_message(format!("loss {loss:.4}"));
                bar.inc(1);
            }
            None => {
                if self.done >= self.next_report || self.done == self.total {
                    eprintln!("{}", self.line());
                    self.next_report = self.done + (self.total / 10).max(1);
                }
            }
        }
    }

    /// Steps done so far.
    pub fn done(&self) -> u64 {
        self.done
    }

    /// Steps per second since the start.
    pub fn rate(&self) -> f64 {
        self.done as f64 / self.started.elapsed().as_secs_f64().max(1e-9)
    }

    /// The text of a progress line, e.g.
    /// `train 30/100 (30%) loss 0.1234, 12.5 it/s, 6 s left`.
    pub fn line(&self) -> String {
        let pct = (self.done * 100).checked_div(self.total).unwrap_or(100);
        let loss = self
            .last_loss
            .map(|l| format!(" loss {l:.4},"))
            .unwrap_or_default();
        let left = self.total.saturating_sub(self.done);
        let eta = if left > 0 && self.done > 0 {
            format!(", {} left", duration_words(left as f64 / self.rate().max(1e-9)))
        } else {
            String::new()
        };
        format!(
            "{} {}/{} ({pct}%){loss} {:.1} it/s{eta}",
            self.label,
            self.done,
            self.total,
            self.rate()
        )
    }

    /// Ends the display (the bar stays on screen).
    pub fn finish(self) {
        if let Some(bar) = self.bar {
            bar.finish();
        }
    }
}

/// A duration in words a student reads at a glance: `40 s`, `3 min`, `2.5 h`.
pub fn duration_words(seconds: f64) -> String {
    if seconds < 90.0 {
        format!("{seconds:.0} s")
    } else if seconds < 90.0 * 60.0 {
        format!("{:.0} min", seconds / 60.0)
    } else {
        format!("{:.1} h", seconds / 3600.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_reports_fraction_and_loss() {
        let mut p = Progress::new("fit", 4);
        p.step(0.5);
        p.step(0.25);
        let line = p.line();
        assert!(line.starts_with("fit 2/4 (50%) loss 0.2500,"), "{line}");
        assert!(line.contains("it/s, ") && line.ends_with(" left"), "{line}");
        assert_eq!(duration_words(40.0), "40 s");
        assert_eq!(duration_words(180.0), "3 min");
        assert_eq!(duration_words(9000.0), "2.5 h");
        assert_eq!(p.done(), 2);
        p.finish();
    }
}
