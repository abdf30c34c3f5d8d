//! Linear discriminant analysis as a projection: the directions that best
//! separate the class means relative to the spread within each class.
use super::{as_matrix, svd};
use crate::{Error, Result};
use tch::{Kind, Tensor};

/// A fitted LDA projection (scikit-learn's `LinearDiscriminantAnalysis` with
/// its default SVD solver): `transform` maps `[N, D]` to `[N, k]`, k < classes.
#[derive(Debug)]
pub struct Lda {
    /// The class-prior-weighted mean of the class means `[D]`.
    pub mean: Tensor,
    /// The projection `[D, k]`.
    pub scalings: Tensor,
}

impl Lda {
    /// Fits `components` discriminant directions to `x` `[N, D]` with integer `labels` `[N]`.
    /// Features that never vary within a class do not make the problem singular:
    /// directions with no within-class spread are dropped, as scikit-learn does.
    pub fn fit(x: &Tensor, labels: &Tensor, components: i64) -> Result<Lda> {
        let x = as_matrix(x, "the data for LDA", 2)?;
        let (n, d) = (x.size()[0], x.size()[1]);
        let labels = labels.to_device(tch::Device::Cpu).to_kind(Kind::Int64).view([-1]);
        if labels.size()[0] != n {
            return Err(Error::invalid("LDA labels", labels.size()[0], format!("one per row ({n})")));
        }
        let classes = Vec::<i64>::try_from(labels.unique_dim(0, true, false, false).0).unwrap_or_default();
        let c = classes.len() as i64;
        if c < 2 || components < 1 || components > (c - 1).min(d) {
            return Err(Error::invalid("LDA components", components, format!("between 1 and min(classes - 1, D) = {} (with {c} classes)", (c - 1).min(d))));
        }
        let mut means = Vec::new();
        let mut centred = Vec::new();
        let mut priors = Vec::new();
        for &class in &classes {
            let rows = x.index_select(0, &labels.eq(class).nonzero().view([-1]));
            let mean = rows.mean_dim(0, true, Kind::Double);
            priors.push(rows.size()[0] as f64 / n as f64);
            centred.push(&rows - &mean);
            means.push(mean);
        }
        let means = Tensor::cat(&means, 0);
        let priors = Tensor::from_slice(&priors);
        let mean = priors.matmul(&means);
        // Whiten the within-class scatter over the directions where it is not zero.
        let within = Tensor::cat(&centred, 0);
        let std = within.std_dim(0, false, false);
        let std = std.where_self(&std.ne(0.0), &std.ones_like());
        let scaled = &within / &std * (1.0 / (n - c) as f64).sqrt();
        let (_, s, vh) = svd(&scaled);
        let rank = s.gt(1e-4).sum(Kind::Int64).int64_value(&[]);
        let scalings = (vh.narrow(0, 0, rank) / &std).tr() / s.narrow(0, 0, rank);
        // Then the directions of largest between-class spread in that space.
        let weights = (priors * n as f64 / (c - 1) as f64).sqrt().unsqueeze(1);
        let between = ((&means - &mean) * weights).matmul(&scalings);
        let (_, s, vh) = svd(&between);
        let rank = s.gt(1e-4 * s.double_value(&[0])).sum(Kind::Int64).int64_value(&[]);
        let scalings = scalings.matmul(&vh.narrow(0, 0, rank.min(components)).tr());
        Ok(Lda { mean, scalings })
    }

    /// The projection of `x` `[N, D]`: `[N, k]`.
    pub fn transform(&self, x: &Tensor) -> Result<Tensor> {
        let x = as_matrix(x, "the data to project", 1)?;
        if x.size()[1] != self.mean.size()[0] {
            return Err(Error::invalid("the data's width", x.size()[1], format!("{} features, as in fitting", self.mean.size()[0])));
        }
        Ok((x - &self.mean).matmul(&self.scalings))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::Device;

    #[test]
    fn finds_the_direction_that_separates_the_classes_not_the_widest() {
        tch::manual_seed(5);
        // Two classes apart along y by 2, spread along x by 10: PCA would pick x, LDA must pick y.
        let noise = Tensor::randn([400, 2], (Kind::Double, Device::Cpu)) * Tensor::from_slice(&[10.0, 0.5]);
        let labels = Tensor::cat(&[Tensor::zeros([200], (Kind::Int64, Device::Cpu)), Tensor::ones([200], (Kind::Int64, Device::Cpu))], 0);
        let shift = labels.to_kind(Kind::Double).unsqueeze(1) * Tensor::from_slice(&[0.0, 2.0]);
        let x = noise + shift;
        let lda = Lda::fit(&x, &labels, 1).unwrap();
        let w = Vec::<f64>::try_from(lda.scalings.view([-1])).unwrap();
        assert!(w[1].abs() > 50.0 * w[0].abs(), "{w:?}");
        let z = lda.transform(&x).unwrap().view([-1]);
        let (a, b) = (z.narrow(0, 0, 200).mean(Kind::Double).double_value(&[]), z.narrow(0, 200, 200).mean(Kind::Double).double_value(&[]));
        assert!((a - b).abs() > 3.0, "class means {a} and {b}");
        assert!(Lda::fit(&x, &labels, 2).unwrap_err().to_string().contains("LDA components"));
    }
}
