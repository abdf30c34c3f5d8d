//! The seven methods behind one name, for side-by-side comparisons.
use super::{isomap, smacof, squared_distances, tsne, umap, FastIca, FastIcaConfig, IsomapConfig, Lda, MdsConfig, Pca, TsneConfig, UmapConfig};
use crate::Result;
use tch::Tensor;

/// One of the lecture's seven methods, with its default settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Reducer {
    Pca,
    Ica,
    Lda,
    Mds,
    Isomap,
    Tsne,
    Umap,
}

impl Reducer {
    /// All seven, linear ones first.
    pub const ALL: [Reducer; 7] = [Reducer::Pca, Reducer::Ica, Reducer::Lda, Reducer::Mds, Reducer::Isomap, Reducer::Tsne, Reducer::Umap];

    pub fn name(self) -> &'static str {
        match self {
            Reducer::Pca => "PCA",
            Reducer::Ica => "ICA",
            Reducer::Lda => "LDA",
            Reducer::Mds => "MDS",
            Reducer::Isomap => "Isomap",
            Reducer::Tsne => "t-SNE",
            Reducer::Umap => "UMAP",
        }
    }

    /// Whether it uses the labels (only LDA does).
    pub fn supervised(self) -> bool {
        self == Reducer::Lda
    }

    /// Embeds `x` `[N, D]` in 2-D: `[N, 2]`. `labels` `[N]` are read by LDA only;
    /// `seed` fixes ICA's and UMAP's random starts.
    pub fn embed_2d(self, x: &Tensor, labels: &Tensor, seed: u64) -> Result<Tensor> {
        match self {
            Reducer::Pca => Pca::fit_transform(x, 2),
            Reducer::Ica => {
                let ica = FastIca::fit(x, &FastIcaConfig { components: 2, seed, ..Default::default() })?;
                ica.transform(x)
            }
            Reducer::Lda => Lda::fit(x, labels, 2)?.transform(x),
            Reducer::Mds => {
                let x = super::as_matrix(x, "the data for MDS", 2)?;
                smacof(&squared_distances(&x, &x).sqrt(), &MdsConfig::default())
            }
            Reducer::Isomap => isomap(x, &IsomapConfig::default()),
            Reducer::Tsne => tsne(x, &TsneConfig::default()),
            Reducer::Umap => umap(x, &UmapConfig { seed, ..Default::default() }),
        }
    }
}

impl std::fmt::Display for Reducer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}
