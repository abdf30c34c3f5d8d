//! Principal component analysis by the SVD of the centred data.
use super::{as_matrix, fix_signs, svd};
use crate::{Error, Result};
use tch::{Kind, Tensor};

/// A fitted PCA: `transform` maps `[N, D]` to `[N, k]`.
#[derive(Debug)]
pub struct Pca {
    /// Mean of the training rows `[D]`.
    pub mean: Tensor,
    /// The principal directions `[k, D]`, orthonormal rows, largest variance first;
    /// each row's entry of largest magnitude is positive.
    pub components: Tensor,
    /// Variance along each direction `[k]` (divided by N - 1).
    pub explained_variance: Tensor,
    /// Share of the total variance along each direction `[k]`.
    pub explained_variance_ratio: Tensor,
}

impl Pca {
    /// Fits `components` directions to `x` `[N, D]`.
    pub fn fit(x: &Tensor, components: i64) -> Result<Pca> {
        let x = as_matrix(x, "the data for PCA", 2)?;
        let (n, d) = (x.size()[0], x.size()[1]);
        if components < 1 || components > n.min(d) {
            return Err(Error::invalid("PCA components", components, format!("between 1 and min(N, D) = {}", n.min(d))));
        }
        let mean = x.mean_dim(0, false, Kind::Double);
        let (_, s, vh) = svd(&(&x - &mean));
        let variance = s.square() / (n - 1) as f64;
        let total = variance.sum(Kind::Double);
        let components_t = fix_signs(&vh.narrow(0, 0, components).tr());
        let explained_variance = variance.narrow(0, 0, components);
        Ok(Pca {
            mean,
            components: components_t.tr().contiguous(),
            explained_variance_ratio: &explained_variance / total,
            explained_variance,
        })
    }

    /// Coordinates of `x` `[N, D]` along the components: `[N, k]`.
    pub fn transform(&self, x: &Tensor) -> Result<Tensor> {
        let x = as_matrix(x, "the data to project", 1)?;
        if x.size()[1] != self.mean.size()[0] {
            return Err(Error::invalid("the data's width", x.size()[1], format!("{} features, as in fitting", self.mean.size()[0])));
        }
        Ok((x - &self.mean).matmul(&self.components.tr()))
    }

    /// Fits `components` directions and returns the coordinates of `x` itself.
    pub fn fit_transform(x: &Tensor, components: i64) -> Result<Tensor> {
        Pca::fit(x, components)?.transform(x)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::Device;

    #[test]
    fn finds_the_axes_of_a_stretched_cloud() {
        tch::manual_seed(0);
        // Independent construction: variances 9, 1 and 0.01 along a known rotation.
        let z = Tensor::randn([4000, 3], (Kind::Double, Device::Cpu)) * Tensor::from_slice(&[3.0, 1.0, 0.1]);
        let (c, s) = (0.6f64, 0.8f64);
        let rotation = Tensor::from_slice(&[c, -s, 0.0, s, c, 0.0, 0.0, 0.0, 1.0]).view([3, 3]);
        let x = z.matmul(&rotation.tr()) + 5.0;
        let pca = Pca::fit(&x, 2).unwrap();
        let first = Vec::<f64>::try_from(pca.components.get(0)).unwrap();
        assert!((first[0].abs() - c).abs() < 0.02 && (first[1].abs() - s).abs() < 0.02, "{first:?}");
        let ratio = Vec::<f64>::try_from(&pca.explained_variance_ratio).unwrap();
        assert!((ratio[0] - 9.0 / 10.01).abs() < 0.01 && (ratio[1] - 1.0 / 10.01).abs() < 0.01, "{ratio:?}");
        let coords = pca.transform(&x).unwrap();
        assert!(coords.mean_dim(0, false, Kind::Double).abs().max().double_value(&[]) < 1e-9);
        assert!(Pca::fit(&x, 4).unwrap_err().to_string().contains("PCA components"));
    }
}
