//! The factor table: how much of each factor of variation an encoder keeps.
//!
//! For each encoder, two probes predict the shape, the hue bin and the
//! location bin of validation images from their features: a k-NN vote
//! (neighbours searched among training features) and a linear classifier
//! trained on the training features. Accuracy near chance means the encoder
//! dropped that factor, or keeps it in a form neither probe can read; well
//! above chance means the features keep it.
use super::accuracy::majority_fraction;
use super::linear_probe::{linear_probe_accuracy, LinearProbeConfig};
use super::neighbours::{knn_indices, knn_vote_accuracy};
use crate::Result;
use crate::data::Shapes;
use std::fmt;
use tch::{Kind, Tensor};

/// Bins of the colour wheel used for the hue factor.
pub const HUE_BINS: usize = 6;
/// The image is cut into a GRID x GRID board for the location factor.
pub const LOCATION_GRID: usize = 3;
/// Neighbours per vote.
pub const PROBE_K: usize = 10;

/// One probe's accuracy on each factor.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct FactorScores {
    pub shape: f64,
    pub hue: f64,
    pub location: f64,
}

/// Probe accuracies of one encoder.
#[derive(Debug, Clone, PartialEq)]
pub struct FactorProbe {
    pub encoder: String,
    /// k-NN vote with [`PROBE_K`] neighbours.
    pub knn: FactorScores,
    /// A linear classifier ([`LinearProbeConfig::default`]).
    pub linear: FactorScores,
}

/// Probe accuracies of several encoders, with chance levels.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FactorTable {
    pub rows: Vec<FactorProbe>,
    /// Accuracy of always answering the most frequent validation label.
    pub chance: FactorScores,
}

impl FactorTable {
    /// An empty table whose chance levels come from the validation set.
    pub fn new(val: &Shapes) -> Self {
        FactorTable {
            rows: Vec::new(),
            chance: FactorScores {
                shape: majority_fraction(&val.shape_labels()),
                hue: majority_fraction(&val.hue_bins(HUE_BINS)),
                location: majority_fraction(&val.location_bins(LOCATION_GRID)),
            },
        }
    }

    /// Probes one encoder from its features of the training and validation
    /// sets (`[N_train, D]`, `[N_val, D]`, rows in the sets' order) and adds a row.
    pub fn probe(
        &mut self,
        encoder: impl Into<String>,
        train_features: &Tensor,
        train: &Shapes,
        val_features: &Tensor,
        val: &Shapes,
    ) -> Result<&FactorProbe> {
        let (train_x, val_x) = (train_features.to_kind(Kind::Float), val_features.to_kind(Kind::Float));
        let labels = [
            (train.shape_labels(), val.shape_labels()),
            (train.hue_bins(HUE_BINS), val.hue_bins(HUE_BINS)),
            (train.location_bins(LOCATION_GRID), val.location_bins(LOCATION_GRID)),
        ];
        // One neighbour search; each factor's labels then vote on it.
        let nn = knn_indices(&train_x, &val_x, PROBE_K);
        let knn: Vec<f64> = labels.iter().map(|(tl, vl)| knn_vote_accuracy(&nn, tl, vl)).collect();
        let linear = labels
            .iter()
            .map(|(tl, vl)| linear_probe_accuracy(&train_x, tl, &val_x, vl, &LinearProbeConfig::default()))
            .collect::<Result<Vec<f64>>>()?;
        let scores = |v: &[f64]| FactorScores { shape: v[0], hue: v[1], location: v[2] };
        self.rows.push(FactorProbe {
            encoder: encoder.into(),
            knn: scores(&knn),
            linear: scores(&linear),
        });
        Ok(self.rows.last().expect("just pushed"))
    }
}

/// A markdown table, one row per encoder with each factor's k-NN and linear
/// probe accuracy, chance last.
impl fmt::Display for FactorTable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "| encoder | shape (3) k-NN | shape linear | hue bin ({HUE_BINS}) k-NN | hue linear | location bin ({}) k-NN | location linear |",
            LOCATION_GRID * LOCATION_GRID
        )?;
        writeln!(f, "|---|---|---|---|---|---|---|")?;
        for r in &self.rows {
            writeln!(
                f,
                "| {} | {:.3} | {:.3} | {:.3} | {:.3} | {:.3} | {:.3} |",
                r.encoder, r.knn.shape, r.linear.shape, r.knn.hue, r.linear.hue, r.knn.location, r.linear.location
            )?;
        }
        let c = self.chance;
        write!(
            f,
            "| chance (majority class) | {:.3} | {:.3} | {:.3} | {:.3} | {:.3} | {:.3} |",
            c.shape, c.shape, c.hue, c.hue, c.location, c.location
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::ShapesConfig;

    /// Hand-made "encoders": one that sees only the shape, one only the hue.
    fn shape_only(s: &Shapes) -> Tensor {
        s.shape_labels().one_hot(3).to_kind(Kind::Float)
    }
    fn hue_only(s: &Shapes) -> Tensor {
        let a: Vec<f32> = s
            .factors
            .iter()
            .map(|f| f.hue * std::f32::consts::TAU)
            .collect();
        let a = Tensor::from_slice(&a);
        Tensor::stack(&[a.cos(), a.sin()], 1)
    }

    #[test]
    fn table_measures_which_factor_an_encoder_keeps() {
        let all = Shapes::generate(&ShapesConfig {
            len: 3000,
            seed: 9,
            ..Default::default()
        })
        .unwrap();
        let (train, val) = all.split_at(2000);
        let mut table = FactorTable::new(&val);
        let s = table
            .probe("shape only", &shape_only(&train), &train, &shape_only(&val), &val)
            .unwrap()
            .clone();
        let h = table
            .probe("hue only", &hue_only(&train), &train, &hue_only(&val), &val)
            .unwrap()
            .clone();
        let chance = table.chance;
        for (probe, scores) in [("k-NN", s.knn), ("linear", s.linear)] {
            assert!(scores.shape > 0.99, "{probe}: {scores:?}");
            assert!(
                scores.hue < chance.hue + 0.1 && scores.location < chance.location + 0.1,
                "{probe}: {scores:?} {chance:?}"
            );
        }
        // Hue as an angle (cos, sin): bins are sectors, which both probes read.
        for (probe, scores) in [("k-NN", h.knn), ("linear", h.linear)] {
            assert!(scores.hue > 0.9, "{probe}: {scores:?}");
            assert!(
                scores.shape < chance.shape + 0.1 && scores.location < chance.location + 0.1,
                "{probe}: {scores:?}"
            );
        }
        let text = table.to_string();
        assert!(text.contains("| shape only | 1.000 | 1.000 |") && text.contains("chance"), "{text}");
    }
}
