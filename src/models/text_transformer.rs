//! A text Transformer trained from scratch: token and positional embeddings
//! and the same pre-norm encoder as the ViT; a caption's representation is the
//! mean of its tokens' final states (padding left out).
use super::transformer::{AttentionFn, Encoder, TransformerConfig};
use tch::nn::{self, Module};
use tch::{Kind, Tensor};

/// The shape of a [`TextTransformer`].
#[derive(Debug, Clone, PartialEq)]
pub struct TextTransformerConfig {
    /// Tokens in the vocabulary (30,522 for MiniLM's WordPiece).
    pub vocab_size: i64,
    /// Longest caption in tokens; longer ones are cut.
    pub max_len: i64,
    pub encoder: TransformerConfig,
}

impl Default for TextTransformerConfig {
    fn default() -> Self {
        TextTransformerConfig { vocab_size: 30_522, max_len: 32, encoder: TransformerConfig::default() }
    }
}

/// Token ids `[B, L]` and mask `[B, L]` (1 for tokens, 0 for padding) -> features `[B, width]`.
#[derive(Debug)]
pub struct TextTransformer {
    token_embedding: nn::Embedding,
    positions: Tensor,
    encoder: Encoder,
    config: TextTransformerConfig,
}

impl TextTransformer {
    pub fn new(p: &nn::Path, config: &TextTransformerConfig) -> Self {
        let w = config.encoder.width;
        TextTransformer {
            token_embedding: nn::embedding(p / "token_embedding", config.vocab_size, w, Default::default()),
            positions: p.var("positions", &[1, config.max_len, w], nn::Init::Randn { mean: 0.0, stdev: 0.02 }),
            encoder: Encoder::new(&(p / "encoder"), &config.encoder),
            config: config.clone(),
        }
    }

    pub fn config(&self) -> &TextTransformerConfig {
        &self.config
    }

    /// The mean of the real tokens' final states `[B, width]`.
    pub fn forward_t(&self, ids: &Tensor, mask: &Tensor, attention: AttentionFn, train: bool) -> Tensor {
        let l = ids.size()[1].min(self.config.max_len);
        let (ids, mask) = (ids.narrow(1, 0, l), mask.narrow(1, 0, l));
        let x = self.token_embedding.forward(&ids) + self.positions.narrow(1, 0, l);
        let states = self.encoder.forward(&x, Some(&mask), attention, train);
        super::text_encoder::mean_pool(&states, &mask).to_kind(Kind::Float)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::{nn::VarStore, Device};

    #[cfg(feature = "solutions")]
    #[test]
    fn padding_leaves_a_captions_features_alone() {
        use crate::models::scaled_dot_product_attention;
        tch::manual_seed(0);
        let vs = VarStore::new(Device::Cpu);
        let config = TextTransformerConfig { vocab_size: 50, max_len: 8, encoder: TransformerConfig { width: 16, heads: 2, layers: 2, mlp_ratio: 2, dropout: 0.0 } };
        let text = TextTransformer::new(&vs.root(), &config);
        let ids = Tensor::from_slice(&[3i64, 7, 9, 0, 0, 0, 4, 5, 6, 7, 8, 9]).view([2, 6]);
        let mask = ids.ne(0).to_kind(Kind::Int64);
        let batch = text.forward_t(&ids, &mask, scaled_dot_product_attention, false);
        let alone = text.forward_t(&ids.narrow(0, 0, 1).narrow(1, 0, 3), &mask.narrow(0, 0, 1).narrow(1, 0, 3), scaled_dot_product_attention, false);
        assert_eq!(batch.size(), [2, 16]);
        assert!(batch.get(0).allclose(&alone.get(0), 1e-5, 1e-5, false));
        // Longer than max_len: cut, not an error.
        let long = Tensor::ones([1, 12], (Kind::Int64, Device::Cpu));
        assert_eq!(text.forward_t(&long, &long, scaled_dot_product_attention, false).size(), [1, 16]);
    }
}
