//! Geometry of groups of unit vectors (questions 3-5 of the shapes homework).
//!
//! Each group `S_i` is a `[n_i, d]` tensor of features of one similarity group.
use tch::{Kind, Tensor};

fn pairwise(a: &Tensor, b: &Tensor) -> Tensor {
    crate::eval::squared_distances(a, b).sqrt()
}

/// Largest distance between two members of a group: `max ||f(s) - f(t)||`.
pub fn diameter(group: &Tensor) -> f64 {
    pairwise(group, group).max().double_value(&[])
}

/// Smallest distance between a member of `a` and one of `b`.
pub fn margin(a: &Tensor, b: &Tensor) -> f64 {
    pairwise(a, b).min().double_value(&[])
}

/// Whether the contrastive classification is always right (the largest logit
/// is uniquely the positive's), checked by brute force over every anchor `x`
/// and positive `y` of a group and every candidate `z` of another group:
/// `x . y > x . z`. Uses dot products only, not diameters or margins.
pub fn perfect_accuracy(groups: &[Tensor]) -> bool {
    groups.iter().enumerate().all(|(i, gi)| {
        let pos = gi.matmul(&gi.tr()).min_dim(1, false).0; // worst positive per anchor
        groups
            .iter()
            .enumerate()
            .filter(|(j, _)| *j != i)
            .all(|(_, gj)| {
                let neg = gi.matmul(&gj.tr()).max_dim(1, false).0; // best negative per anchor
                pos.gt_tensor(&neg).all().int64_value(&[]) == 1
            })
    })
}

/// Condition (ii): every group's diameter is below its margin to every other group.
pub fn diameters_below_all_margins(groups: &[Tensor]) -> bool {
    groups.iter().enumerate().all(|(i, gi)| {
        groups
            .iter()
            .enumerate()
            .filter(|(j, _)| *j != i)
            .all(|(_, gj)| diameter(gi) < margin(gi, gj))
    })
}

/// Condition (i): every group's diameter is below its margin to *some* other group.
pub fn diameter_below_some_margin(groups: &[Tensor]) -> bool {
    groups.iter().enumerate().all(|(i, gi)| {
        groups
            .iter()
            .enumerate()
            .filter(|(j, _)| *j != i)
            .any(|(_, gj)| diameter(gi) < margin(gi, gj))
    })
}

/// Points on the unit circle at the given angles (radians), `[n, 2]`.
pub fn on_circle(angles: &[f64]) -> Tensor {
    let xy: Vec<f64> = angles.iter().flat_map(|a| [a.cos(), a.sin()]).collect();
    Tensor::from_slice(&xy)
        .reshape([angles.len() as i64, 2])
        .to_kind(Kind::Float)
}

/// Alignment of positive pairs (Wang and Isola): `E ||f(x) - f(y)||^2`,
/// rows of `x` and `y` paired. Lower is better aligned.
pub fn alignment(x: &Tensor, y: &Tensor) -> f64 {
    (x - y)
        .square()
        .sum_dim_intlist([1].as_slice(), false, Kind::Float)
        .mean(Kind::Float)
        .double_value(&[])
}

/// Uniformity (Wang and Isola): `log E exp(-t ||f(x) - f(y)||^2)` over distinct
/// pairs of rows. Lower is more uniform on the sphere.
pub fn uniformity(z: &Tensor, t: f64) -> f64 {
    let n = z.size()[0];
    let d = crate::eval::squared_distances(z, z);
    let mask = Tensor::ones([n, n], (Kind::Bool, z.device())).triu(1);
    (d.masked_select(&mask) * -t)
        .exp()
        .mean(Kind::Float)
        .log()
        .double_value(&[])
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use std::f64::consts::{PI, TAU};

    fn three_groups(centres: [f64; 3], spread: f64, rng: &mut impl Rng) -> Vec<Tensor> {
        centres
            .iter()
            .map(|c| {
                on_circle(
                    &(0..4)
                        .map(|_| c + rng.random_range(-spread..=spread))
                        .collect::<Vec<_>>(),
                )
            })
            .collect()
    }

    #[test]
    fn diameter_and_margin_by_hand() {
        let g = on_circle(&[0.0, PI / 2.0]);
        assert!((diameter(&g) - 2f64.sqrt()).abs() < 1e-6);
        let h = on_circle(&[PI]);
        assert!((margin(&g, &h) - 2f64.sqrt()).abs() < 1e-6);
    }

    #[test]
    fn condition_ii_implies_perfect_accuracy_and_condition_i_does_not() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(4);
        let (mut ii_seen, mut i_but_not_perfect) = (0, 0);
        for _ in 0..400 {
            let centres = [
                0.0,
                rng.random_range(0.5..TAU / 2.0),
                rng.random_range(TAU / 2.0..TAU - 0.5),
            ];
            let groups = three_groups(centres, rng.random_range(0.05..1.2), &mut rng);
            if diameters_below_all_margins(&groups) {
                ii_seen += 1;
                assert!(
                    perfect_accuracy(&groups),
                    "condition (ii) held but accuracy was not perfect"
                );
            }
            if diameter_below_some_margin(&groups) && !perfect_accuracy(&groups) {
                i_but_not_perfect += 1;
            }
        }
        assert!(
            ii_seen > 20 && i_but_not_perfect > 0,
            "{ii_seen} {i_but_not_perfect}"
        );
    }

    #[test]
    fn alignment_and_uniformity_extremes() {
        let z = on_circle(&[0.0, 2.0 * PI / 3.0, 4.0 * PI / 3.0]);
        assert_eq!(alignment(&z, &z), 0.0);
        // Equally spaced points: every pair at squared distance 3.
        assert!((uniformity(&z, 2.0) - (-6.0)).abs() < 1e-5);
        // All points equal: exp(0) = 1, log 1 = 0, the worst value.
        let same = on_circle(&[1.0, 1.0, 1.0]);
        assert!(uniformity(&same, 2.0).abs() < 1e-6);
    }
}
