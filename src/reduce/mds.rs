//! Multidimensional scaling: classical (Torgerson's, by eigendecomposition)
//! and metric MDS by SMACOF, started from the classical solution.
use super::{as_matrix, double_centre, fix_signs, squared_distances};
use crate::{Error, Result};
use tch::{Kind, Tensor};

/// Settings of [`smacof`].
#[derive(Debug, Clone, PartialEq)]
pub struct MdsConfig {
    /// Dimensions of the embedding.
    pub components: i64,
    /// Most SMACOF iterations.
    pub max_iter: usize,
    /// Stop when the stress falls by less than this fraction in one iteration.
    pub tolerance: f64,
}

impl Default for MdsConfig {
    /// scikit-learn's: 2 dimensions, 300 iterations.
    fn default() -> Self {
        MdsConfig { components: 2, max_iter: 300, tolerance: 1e-6 }
    }
}

fn check_distances(distances: &Tensor) -> Result<Tensor> {
    let d = as_matrix(distances, "the distance matrix", 2)?;
    let n = d.size()[0];
    if d.size()[1] != n {
        return Err(Error::invalid("the distance matrix", format!("shape {:?}", d.size()), "square [N, N]"));
    }
    Ok(d)
}

/// Classical MDS of a distance matrix `[N, N]`: the top eigenvectors of
/// `-1/2 J D^2 J`, scaled by the square roots of their eigenvalues: `[N, k]`.
/// For Euclidean distances it is PCA's projection, up to sign.
pub fn classical_mds(distances: &Tensor, components: i64) -> Result<Tensor> {
    let d = check_distances(distances)?;
    let n = d.size()[0];
    if components < 1 || components >= n {
        return Err(Error::invalid("MDS components", components, format!("between 1 and N - 1 = {}", n - 1)));
    }
    let b = double_centre(&(d.square() * -0.5));
    let b = (&b + b.tr()) * 0.5;
    let (values, vectors) = b.linalg_eigh("L");
    let top = values.flip([0]).narrow(0, 0, components).clamp_min(0.0);
    let vectors = vectors.flip([1]).narrow(1, 0, components);
    Ok(fix_signs(&(vectors * top.sqrt())))
}

/// Raw stress of an embedding `[N, k]` against distances `[N, N]`: the sum over
/// pairs of (embedded distance - given distance)^2.
pub fn stress(distances: &Tensor, embedding: &Tensor) -> Result<f64> {
    let d = check_distances(distances)?;
    let e = as_matrix(embedding, "the embedding", 2)?;
    let got = squared_distances(&e, &e).sqrt();
    Ok((got - d).square().sum(Kind::Double).double_value(&[]) / 2.0)
}

/// Metric MDS by SMACOF (majorisation) from the classical solution: `[N, k]`,
/// the embedding whose pairwise distances best match `distances` `[N, N]` in stress.
pub fn smacof(distances: &Tensor, config: &MdsConfig) -> Result<Tensor> {
    let d = check_distances(distances)?;
    let n = d.size()[0] as f64;
    let mut x = classical_mds(&d, config.components)?.to_kind(Kind::Float);
    // Single precision halves the time of the N^2 work and changes nothing visible.
    let d = d.to_kind(Kind::Float);
    let mut last = f64::INFINITY;
    for _ in 0..config.max_iter {
        let current = squared_distances(&x, &x).sqrt();
        // The stress of x, from the distances the update needs anyway.
        let now = (&current - &d).square().sum(Kind::Double).double_value(&[]) / 2.0;
        if last - now < config.tolerance * last {
            break;
        }
        last = now;
        let ratio = (&d / &current).nan_to_num(0.0, 0.0, 0.0);
        let ratio = ratio.where_self(&current.gt(1e-12), &ratio.zeros_like());
        let b = -&ratio + Tensor::diag_embed(&ratio.sum_dim_intlist(1, false, Kind::Float), 0, -2, -1);
        x = b.matmul(&x) / n;
    }
    Ok(x.to_kind(Kind::Double))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reduce::{procrustes_disparity, Pca};
    use tch::Device;

    #[test]
    fn classical_mds_of_euclidean_distances_is_pca() {
        tch::manual_seed(3);
        let x = Tensor::randn([50, 5], (Kind::Double, Device::Cpu)) * Tensor::from_slice(&[4.0, 2.0, 1.0, 0.5, 0.1]);
        let d = squared_distances(&x, &x).sqrt();
        let mds = classical_mds(&d, 2).unwrap();
        let pca = Pca::fit_transform(&x, 2).unwrap();
        let diff = (mds.abs() - pca.abs()).abs().max().double_value(&[]);
        assert!(diff < 1e-8, "{diff}");
    }

    #[test]
    fn smacof_lowers_the_stress_of_the_classical_start() {
        tch::manual_seed(4);
        // Distances on a sphere's surface (great-circle) are not Euclidean in 2-D.
        let p = Tensor::randn([40, 3], (Kind::Double, Device::Cpu));
        let p = &p / p.norm_scalaropt_dim(2, [1].as_slice(), true);
        let d = p.matmul(&p.tr()).clamp(-1.0, 1.0).acos();
        let start = classical_mds(&d, 2).unwrap();
        let end = smacof(&d, &MdsConfig::default()).unwrap();
        assert!(stress(&d, &end).unwrap() < 0.95 * stress(&d, &start).unwrap());
        // On points that are exactly 2-D, SMACOF keeps them where they are.
        let flat = Tensor::randn([30, 2], (Kind::Double, Device::Cpu));
        let d = squared_distances(&flat, &flat).sqrt();
        assert!(procrustes_disparity(&flat, &smacof(&d, &MdsConfig::default()).unwrap()).unwrap() < 1e-8);
        assert!(smacof(&Tensor::zeros([3, 4], (Kind::Double, Device::Cpu)), &MdsConfig::default()).is_err());
    }
}
