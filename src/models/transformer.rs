//! The pre-norm Transformer encoder shared by the ViT and the text
//! Transformer: multi-head self-attention and an MLP, each inside a residual
//! connection after a LayerNorm. The attention itself is a parameter
//! ([`AttentionFn`]), so the ViT assignment's students plug in their own.
use tch::nn::{self, Module};
use tch::Tensor;

/// Scaled dot-product attention: queries `[B, H, L, d]`, keys and values
/// `[B, H, S, d]`, and an optional key mask `[B, S]` (1 = attend, 0 = padding)
/// -> `[B, H, L, d]`.
pub type AttentionFn = fn(&Tensor, &Tensor, &Tensor, Option<&Tensor>) -> Tensor;

/// The shape of a Transformer encoder.
#[derive(Debug, Clone, PartialEq)]
pub struct TransformerConfig {
    /// Width of every token's vector.
    pub width: i64,
    pub heads: i64,
    pub layers: i64,
    /// The MLP's hidden width is `mlp_ratio * width`.
    pub mlp_ratio: i64,
    /// Dropout after the attention and in the MLP, while training.
    pub dropout: f64,
}

impl Default for TransformerConfig {
    /// The original's student set-up: width 256, 8 heads, 6 layers, MLP ratio 4, dropout 0.1.
    fn default() -> Self {
        TransformerConfig { width: 256, heads: 8, layers: 6, mlp_ratio: 4, dropout: 0.1 }
    }
}

/// One pre-norm block: `x + attention(norm(x))`, then `x + mlp(norm(x))`.
#[derive(Debug)]
pub struct EncoderBlock {
    norm1: nn::LayerNorm,
    qkv: nn::Linear,
    out: nn::Linear,
    norm2: nn::LayerNorm,
    fc1: nn::Linear,
    fc2: nn::Linear,
    heads: i64,
    dropout: f64,
}

impl EncoderBlock {
    pub fn new(p: &nn::Path, c: &TransformerConfig) -> Self {
        let w = c.width;
        EncoderBlock {
            norm1: nn::layer_norm(p / "norm1", vec![w], Default::default()),
            qkv: nn::linear(p / "qkv", w, 3 * w, Default::default()),
            out: nn::linear(p / "out", w, w, Default::default()),
            norm2: nn::layer_norm(p / "norm2", vec![w], Default::default()),
            fc1: nn::linear(p / "fc1", w, c.mlp_ratio * w, Default::default()),
            fc2: nn::linear(p / "fc2", c.mlp_ratio * w, w, Default::default()),
            heads: c.heads,
            dropout: c.dropout,
        }
    }

    /// Tokens `[B, L, W]` -> `[B, L, W]`; `mask` `[B, L]` marks the real tokens.
    pub fn forward(&self, x: &Tensor, mask: Option<&Tensor>, attention: AttentionFn, train: bool) -> Tensor {
        let (b, l, w) = x.size3().expect("tokens [B, L, W]");
        let d = w / self.heads;
        let split = |t: Tensor| t.view([b, l, self.heads, d]).transpose(1, 2);
        let qkv = self.norm1.forward(x).apply(&self.qkv).chunk(3, -1);
        let (q, k, v) = (split(qkv[0].shallow_clone()), split(qkv[1].shallow_clone()), split(qkv[2].shallow_clone()));
        let context = attention(&q, &k, &v, mask).transpose(1, 2).contiguous().view([b, l, w]);
        let x = x + context.apply(&self.out).dropout(self.dropout, train);
        let inner = self.norm2.forward(&x).apply(&self.fc1).gelu("none").dropout(self.dropout, train);
        &x + inner.apply(&self.fc2).dropout(self.dropout, train)
    }
}

/// A stack of [`EncoderBlock`]s and a final LayerNorm.
#[derive(Debug)]
pub struct Encoder {
    blocks: Vec<EncoderBlock>,
    norm: nn::LayerNorm,
}

impl Encoder {
    pub fn new(p: &nn::Path, c: &TransformerConfig) -> Self {
        assert!(c.width % c.heads == 0, "TransformerConfig: width {} is not a multiple of heads {}", c.width, c.heads);
        Encoder {
            blocks: (0..c.layers).map(|i| EncoderBlock::new(&(p / "blocks" / i), c)).collect(),
            norm: nn::layer_norm(p / "norm", vec![c.width], Default::default()),
        }
    }

    /// Tokens `[B, L, W]` -> `[B, L, W]`, after every block and the final norm.
    pub fn forward(&self, x: &Tensor, mask: Option<&Tensor>, attention: AttentionFn, train: bool) -> Tensor {
        let x = self.blocks.iter().fold(x.shallow_clone(), |h, block| block.forward(&h, mask, attention, train));
        self.norm.forward(&x)
    }

    /// The tokens after each block `[B, L, W]` (one tensor per block, the last one normalised).
    pub fn forward_each(&self, x: &Tensor, mask: Option<&Tensor>, attention: AttentionFn, train: bool) -> Vec<Tensor> {
        let mut h = x.shallow_clone();
        let mut out = Vec::with_capacity(self.blocks.len());
        for (i, block) in self.blocks.iter().enumerate() {
            h = block.forward(&h, mask, attention, train);
            out.push(if i + 1 == self.blocks.len() { self.norm.forward(&h) } else { h.shallow_clone() });
        }
        out
    }
}

/// The reference answer: `softmax(q k^T / sqrt(d) + mask) v`, padding keys at -inf.
#[cfg(feature = "solutions")]
pub fn scaled_dot_product_attention(q: &Tensor, k: &Tensor, v: &Tensor, mask: Option<&Tensor>) -> Tensor {
    let d = *q.size().last().expect("queries [B, H, L, d]") as f64;
    let mut scores = q.matmul(&k.transpose(-2, -1)) / d.sqrt();
    if let Some(mask) = mask {
        let keep = mask.to_kind(tch::Kind::Bool).unsqueeze(1).unsqueeze(1);
        scores = scores.masked_fill(&keep.logical_not(), f64::NEG_INFINITY);
    }
    scores.softmax(-1, tch::Kind::Float).matmul(v)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::{Device, Kind};

    /// Attention for one batch and head, in f64 loops: softmax over the kept keys.
    fn by_hand(q: &[Vec<f64>], k: &[Vec<f64>], v: &[Vec<f64>], keep: &[bool]) -> Vec<Vec<f64>> {
        let d = q[0].len() as f64;
        q.iter()
            .map(|qi| {
                let scores: Vec<f64> = k.iter().zip(keep).map(|(kj, &kept)| if kept { qi.iter().zip(kj).map(|(a, b)| a * b).sum::<f64>() / d.sqrt() } else { f64::NEG_INFINITY }).collect();
                let top = scores.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
                let weights: Vec<f64> = scores.iter().map(|s| (s - top).exp()).collect();
                let total: f64 = weights.iter().sum();
                (0..v[0].len()).map(|c| weights.iter().zip(v).map(|(w, vj)| w * vj[c]).sum::<f64>() / total).collect()
            })
            .collect()
    }

    fn rows(t: &Tensor) -> Vec<Vec<f64>> {
        (0..t.size()[0]).map(|i| Vec::<f64>::try_from(t.get(i).to_kind(Kind::Double)).unwrap()).collect()
    }

    #[cfg(feature = "solutions")]
    #[test]
    fn attention_matches_the_softmax_written_out_and_ignores_padding() {
        tch::manual_seed(0);
        let (q, k, v) = (
            Tensor::randn([2, 2, 3, 4], (Kind::Float, Device::Cpu)),
            Tensor::randn([2, 2, 5, 4], (Kind::Float, Device::Cpu)),
            Tensor::randn([2, 2, 5, 4], (Kind::Float, Device::Cpu)),
        );
        let mask = Tensor::from_slice(&[1i64, 1, 1, 0, 0, 1, 1, 1, 1, 1]).view([2, 5]);
        let got = scaled_dot_product_attention(&q, &k, &v, Some(&mask));
        assert_eq!(got.size(), [2, 2, 3, 4]);
        for b in 0..2 {
            let keep: Vec<bool> = (0..5).map(|j| mask.int64_value(&[b, j]) == 1).collect();
            for h in 0..2 {
                let want = by_hand(&rows(&q.get(b).get(h)), &rows(&k.get(b).get(h)), &rows(&v.get(b).get(h)), &keep);
                let have = rows(&got.get(b).get(h));
                for (w, g) in want.iter().flatten().zip(have.iter().flatten()) {
                    assert!((w - g).abs() < 1e-5, "batch {b} head {h}: {g} vs {w}");
                }
            }
        }
        let unmasked = scaled_dot_product_attention(&q, &k, &v, None);
        let want = by_hand(&rows(&q.get(1).get(0)), &rows(&k.get(1).get(0)), &rows(&v.get(1).get(0)), &[true; 5]);
        assert!((Tensor::from_slice(&want.concat()).view([3, 4]) - unmasked.get(1).get(0).to_kind(Kind::Double)).abs().max().double_value(&[]) < 1e-5);
    }

    #[cfg(feature = "solutions")]
    #[test]
    fn padding_does_not_change_the_real_tokens() {
        tch::manual_seed(1);
        let vs = tch::nn::VarStore::new(Device::Cpu);
        let config = TransformerConfig { width: 16, heads: 4, layers: 2, mlp_ratio: 2, dropout: 0.0 };
        let encoder = Encoder::new(&vs.root(), &config);
        let short = Tensor::randn([1, 3, 16], (Kind::Float, Device::Cpu));
        let padded = Tensor::cat(&[&short, &Tensor::randn([1, 2, 16], (Kind::Float, Device::Cpu))], 1);
        let mask = Tensor::from_slice(&[1i64, 1, 1, 0, 0]).view([1, 5]);
        let alone = encoder.forward(&short, None, scaled_dot_product_attention, false);
        let with_padding = encoder.forward(&padded, Some(&mask), scaled_dot_product_attention, false).narrow(1, 0, 3);
        assert!(alone.allclose(&with_padding, 1e-5, 1e-5, false));
        assert_eq!(encoder.forward_each(&padded, Some(&mask), scaled_dot_product_attention, false).len(), 2);
    }
}
