//! The factor table: how much of each factor of variation an encoder keeps.
//!
//! For each encoder, a k-NN probe predicts the shape, the hue bin and the
//! location bin of validation images from their features (neighbours searched
//! among training features). Accuracy near chance means the encoder is
//! invariant to that factor; near 1 means it is sensitive to it.
use super::neighbours::{knn_indices, knn_vote_accuracy};
use crate::data::Shapes;
use std::fmt;
use tch::{Kind, Tensor};

/// Bins of the colour wheel used for the hue factor.
pub const HUE_BINS: usize = 6;
/// The image is cut into a GRID x GRID board for the location factor.
pub const LOCATION_GRID: usize = 3;
/// Neighbours per vote.
pub const PROBE_K: usize = 10;

/// Probe accuracies of one encoder.
#[derive(Debug, Clone, PartialEq)]
pub struct FactorProbe {
    pub encoder: String,
    pub shape: f64,
    pub hue: f64,
    pub location: f64,
}

/// Probe accuracies of several encoders, with chance levels.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FactorTable {
    pub rows: Vec<FactorProbe>,
    /// Accuracy of always answering the most frequent validation label.
    pub chance: [f64; 3],
}

fn majority_rate(labels: &Tensor) -> f64 {
    let counts = labels.bincount::<Tensor>(None, 0);
    counts.max().double_value(&[]) / labels.size()[0].max(1) as f64
}

impl FactorTable {
    /// An empty table whose chance levels come from the validation set.
    pub fn new(val: &Shapes) -> Self {
        FactorTable {
            rows: Vec::new(),
            chance: [
                majority_rate(&val.shape_labels()),
                majority_rate(&val.hue_bins(HUE_BINS)),
                majority_rate(&val.location_bins(LOCATION_GRID)),
            ],
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
    ) -> &FactorProbe {
        // One neighbour search; each factor's labels then vote on it.
        let nn = knn_indices(
            &train_features.to_kind(Kind::Float),
            &val_features.to_kind(Kind::Float),
            PROBE_K,
        );
        let acc = |tl: Tensor, vl: Tensor| knn_vote_accuracy(&nn, &tl, &vl);
        self.rows.push(FactorProbe {
            encoder: encoder.into(),
            shape: acc(train.shape_labels(), val.shape_labels()),
            hue: acc(train.hue_bins(HUE_BINS), val.hue_bins(HUE_BINS)),
            location: acc(
                train.location_bins(LOCATION_GRID),
                val.location_bins(LOCATION_GRID),
            ),
        });
        self.rows.last().expect("just pushed")
    }
}

/// A markdown table, one row per encoder, chance last.
impl fmt::Display for FactorTable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "| encoder | shape (3) | hue bin ({HUE_BINS}) | location bin ({}) |",
            LOCATION_GRID * LOCATION_GRID
        )?;
        writeln!(f, "|---|---|---|---|")?;
        for r in &self.rows {
            writeln!(
                f,
                "| {} | {:.3} | {:.3} | {:.3} |",
                r.encoder, r.shape, r.hue, r.location
            )?;
        }
        write!(
            f,
            "| chance (majority class) | {:.3} | {:.3} | {:.3} |",
            self.chance[0], self.chance[1], self.chance[2]
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
            .probe(
                "shape only",
                &shape_only(&train),
                &train,
                &shape_only(&val),
                &val,
            )
            .clone();
        let h = table
            .probe("hue only", &hue_only(&train), &train, &hue_only(&val), &val)
            .clone();
        let [shape_chance, hue_chance, loc_chance] = table.chance;
        assert_eq!(s.shape, 1.0);
        assert!(
            s.hue < hue_chance + 0.1 && s.location < loc_chance + 0.1,
            "{s:?} {:?}",
            table.chance
        );
        assert!(h.hue > 0.9, "{h:?}");
        assert!(
            h.shape < shape_chance + 0.1 && h.location < loc_chance + 0.1,
            "{h:?}"
        );
        let text = table.to_string();
        assert!(text.contains("| shape only | 1.000 |") && text.contains("chance"));
    }
}
