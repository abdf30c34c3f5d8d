//! Dimensionality reduction: the seven classic methods of the lecture (PCA,
//! ICA, LDA, MDS, Isomap, t-SNE, UMAP) and the measures that compare them
//! (trustworthiness, k-NN accuracy, Procrustes disparity).
//!
//! Every method takes a data matrix `[N, D]` (any float kind, on any device;
//! the work is done in f64 on the CPU) and returns an embedding `[N, k]` in
//! f64. The linear algebra is libtorch's (SVD, symmetric eigendecomposition);
//! the graph and sampling loops are plain Rust. Each is checked against
//! scikit-learn or umap-learn on the same data in `tests/reduce_vs_python.rs`.
mod ica;
mod isomap;
mod lda;
mod mds;
mod pca;
mod quality;
mod reducer;
mod tsne;
mod umap;

pub use self::ica::{FastIca, FastIcaConfig};
pub use self::isomap::{geodesic_distances, isomap, IsomapConfig};
pub use self::lda::Lda;
pub use self::mds::{classical_mds, smacof, stress, MdsConfig};
pub use self::pca::Pca;
pub use self::quality::{leave_one_out_knn_accuracy, procrustes_disparity, trustworthiness};
pub use self::reducer::Reducer;
pub use self::tsne::{tsne, tsne_affinities, TsneConfig};
pub use self::umap::{find_ab, umap, UmapConfig};

pub(crate) use crate::eval::squared_distances;
use crate::{Error, Result};
use tch::{Device, Kind, Tensor};

/// `x` as a CPU f64 matrix with at least `min_rows` rows of finite numbers.
pub(crate) fn as_matrix(x: &Tensor, what: &str, min_rows: i64) -> Result<Tensor> {
    let size = x.size();
    if size.len() != 2 || size[0] < min_rows || size[1] < 1 {
        return Err(Error::invalid(
            what,
            format!("a tensor of shape {size:?}"),
            format!("a matrix [N, D] with N >= {min_rows} rows (one per sample)"),
        ));
    }
    let x = x.to_device(Device::Cpu).to_kind(Kind::Double);
    if !bool::try_from(x.isfinite().all()).unwrap_or(false) {
        return Err(Error::invalid(what, "a matrix with NaN or infinite entries", "finite numbers"));
    }
    Ok(x)
}

/// The indices `[N, k]` of each row's `k` nearest other rows (by Euclidean distance) and the distances.
pub(crate) fn nearest_neighbours(x: &Tensor, k: i64) -> (Tensor, Tensor) {
    let n = x.size()[0];
    let d = without_diagonal(&squared_distances(x, x), n);
    let (values, indices) = d.topk(k, 1, false, true);
    (indices, values.sqrt())
}

/// Double-centres a matrix: `J m J` with `J = I - 1/N`.
pub(crate) fn double_centre(m: &Tensor) -> Tensor {
    let rows = m.mean_dim(1, true, Kind::Double);
    let cols = m.mean_dim(0, true, Kind::Double);
    m - rows - cols + m.mean(Kind::Double)
}

/// Makes each column's entry of largest magnitude positive (a fixed sign for eigen- and singular vectors).
pub(crate) fn fix_signs(columns: &Tensor) -> Tensor {
    let idx = columns.abs().argmax(0, true);
    let signs = columns.gather(0, &idx, false).sign();
    let signs = signs.where_self(&signs.ne(0.0), &signs.ones_like());
    columns * signs
}

/// Rows of a `[N, k]` f64 tensor as vectors.
pub(crate) fn rows_of(t: &Tensor) -> Vec<Vec<f64>> {
    let k = t.size()[1] as usize;
    let flat = Vec::<f64>::try_from(t.contiguous().view([-1])).unwrap_or_default();
    flat.chunks(k.max(1)).map(|c| c.to_vec()).collect()
}

/// A `[rows, cols]` f64 tensor of standard normal draws from `seed` (Box-Muller
/// on ChaCha8), leaving libtorch's global generator alone.
pub(crate) fn seeded_normal(rows: i64, cols: i64, seed: u64) -> Tensor {
    use rand::{Rng, SeedableRng};
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let values: Vec<f64> = (0..rows * cols)
        .map(|_| {
            let (u, v): (f64, f64) = (1.0 - rng.random::<f64>(), rng.random());
            (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
        })
        .collect();
    Tensor::from_slice(&values).view([rows, cols])
}

/// Thin SVD of `m` `[N, D]`: `(U [N, r], S [r], Vh [r, D])`, singular values largest first.
pub(crate) fn svd(m: &Tensor) -> (Tensor, Tensor, Tensor) {
    let (u, s, v) = m.svd(true, true);
    (u, s, v.tr())
}

/// `d` `[N, N]` with its diagonal set to infinity, so a point is not its own neighbour.
pub(crate) fn without_diagonal(d: &Tensor, n: i64) -> Tensor {
    d.masked_fill(&Tensor::eye(n, (Kind::Bool, Device::Cpu)), f64::INFINITY)
}
