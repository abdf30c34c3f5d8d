//! A record of training: one loss per step, grouped by epoch, plottable.
use crate::viz::{Display, Figure, LinePlot};
use crate::Result;
use serde::{Deserialize, Serialize};

/// Losses recorded during training, with the epoch each step belongs to.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct History {
    /// What was minimised (the chart's y label), e.g. "MSE".
    pub loss_name: String,
    /// One loss per optimisation step.
    pub step_loss: Vec<f64>,
    /// Epoch index of each step (same length as `step_loss`).
    pub step_epoch: Vec<usize>,
}

impl History {
    pub fn new(loss_name: impl Into<String>) -> Self {
        History {
            loss_name: loss_name.into(),
            ..Default::default()
        }
    }

    /// Records one step's loss.
    pub fn push(&mut self, epoch: usize, loss: f64) {
        self.step_loss.push(loss);
        self.step_epoch.push(epoch);
    }

    /// Number of recorded steps.
    pub fn len(&self) -> usize {
        self.step_loss.len()
    }

    pub fn is_empty(&self) -> bool {
        self.step_loss.is_empty()
    }

    /// Mean loss of each epoch, in epoch order.
    pub fn epoch_means(&self) -> Vec<f64> {
        let epochs = self.step_epoch.iter().max().map_or(0, |m| m + 1);
        let mut sums = vec![(0.0, 0usize); epochs];
        for (&e, &l) in self.step_epoch.iter().zip(&self.step_loss) {
            sums[e].0 += l;
            sums[e].1 += 1;
        }
        sums.into_iter()
            .filter(|s| s.1 > 0)
            .map(|(s, n)| s / n as f64)
            .collect()
    }

    /// The last step's loss, if any.
    pub fn last(&self) -> Option<f64> {
        self.step_loss.last().copied()
    }

    /// Loss per step, with the epoch means drawn at each epoch's last step.
    pub fn plot(&self) -> Result<Figure> {
        let mut ends = Vec::new();
        for (i, e) in self.step_epoch.iter().enumerate() {
            if self.step_epoch.get(i + 1) != Some(e) {
                ends.push(i as f64);
            }
        }
        let mut plot = LinePlot::new(format!("Training loss ({})", self.loss_name))
            .y_label(self.loss_name.clone())
            .line("per step", self.step_loss.clone());
        if ends.len() > 1 {
            plot = plot.xy("epoch mean", ends, self.epoch_means());
        }
        plot.render()
    }
}

impl Display for History {
    fn evcxr_display(&self) {
        match self.plot() {
            Ok(fig) => fig.evcxr_display(),
            Err(e) => eprintln!("{e}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epoch_means_average_each_epoch() {
        let mut h = History::new("MSE");
        for (e, l) in [(0, 1.0), (0, 3.0), (1, 0.5), (1, 1.5), (1, 1.0)] {
            h.push(e, l);
        }
        assert_eq!(h.epoch_means(), vec![2.0, 1.0]);
        assert_eq!(h.len(), 5);
        assert_eq!(h.last(), Some(1.0));
        let crate::viz::Figure::Svg(svg) = h.plot().unwrap() else {
            panic!()
        };
        assert!(svg.contains("epoch mean"));
    }
}
