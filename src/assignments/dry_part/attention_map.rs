//! Question 8: reading an attention map. A tiny model with one attention
//! head learns a task whose alignment we know: each output position has a
//! learned query that attends over the input tokens. In the first half of the
//! outputs the answer is one input token (the sequence reversed); in the
//! second half it is the sum modulo the vocabulary of two neighbouring input
//! tokens, so the right attention is split between two of them.
use crate::viz::Heatmap;
use crate::Result;
use tch::nn::{self, Module, OptimizerConfig, VarStore};
use tch::{Device, Kind, Tensor};

/// Which outputs the model must produce from a sequence `x` of length `len`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlignmentTask {
    /// `y_i = x_{len-1-i}`: one input per output.
    Reverse,
    /// `y_i = x_{len-1-i}` for the first half; `y_{len/2+j} = (x_{2j} + x_{2j+1}) mod vocab`
    /// for the second: two inputs per output.
    ReverseThenPairSums,
}

impl AlignmentTask {
    /// Targets `[B, len]` for inputs `[B, len]` (int64 tokens below `vocab`).
    pub fn targets(self, x: &Tensor, vocab: i64) -> Tensor {
        let len = x.size()[1];
        let reversed = x.flip([1]);
        match self {
            AlignmentTask::Reverse => reversed,
            AlignmentTask::ReverseThenPairSums => {
                let half = len / 2;
                let pairs = x.narrow(1, 0, 2 * half).view([-1, half, 2]).sum_dim_intlist(2, false, Kind::Int64).remainder(vocab);
                Tensor::cat(&[reversed.narrow(1, 0, len - half), pairs], 1)
            }
        }
    }

    /// The attention a perfect model would put on each input (`[len, len]`, rows sum to 1).
    pub fn ideal_map(self, len: i64) -> Tensor {
        let map = Tensor::zeros([len, len], (Kind::Float, Device::Cpu));
        for i in 0..len {
            let sources: Vec<i64> = match self {
                AlignmentTask::ReverseThenPairSums if i >= len - len / 2 => {
                    let j = i - (len - len / 2);
                    vec![2 * j, 2 * j + 1]
                }
                _ => vec![len - 1 - i],
            };
            for &s in &sources {
                let _ = map.get(i).get(s).fill_(1.0 / sources.len() as f64);
            }
        }
        map
    }
}

/// One attention head from learned per-output queries to the input tokens, then a small MLP.
#[derive(Debug)]
pub struct AttentionMapModel {
    tokens: nn::Embedding,
    positions: Tensor,
    queries: Tensor,
    key: nn::Linear,
    value: nn::Linear,
    hidden: nn::Linear,
    out: nn::Linear,
    width: i64,
}

impl AttentionMapModel {
    pub fn new(p: &nn::Path, vocab: i64, len: i64, width: i64) -> Self {
        let init = nn::Init::Randn { mean: 0.0, stdev: 1.0 };
        AttentionMapModel {
            tokens: nn::embedding(p / "tokens", vocab, width, Default::default()),
            positions: p.var("positions", &[len, width], init),
            queries: p.var("queries", &[len, width], init),
            key: nn::linear(p / "key", width, width, Default::default()),
            value: nn::linear(p / "value", width, width, Default::default()),
            hidden: nn::linear(p / "hidden", width, 4 * width, Default::default()),
            out: nn::linear(p / "out", 4 * width, vocab, Default::default()),
            width,
        }
    }

    /// Tokens `[B, L]` -> (logits `[B, L, vocab]`, attention `[B, L outputs, L inputs]`).
    pub fn forward(&self, x: &Tensor) -> (Tensor, Tensor) {
        let encoded = self.tokens.forward(x) + &self.positions;
        let scores = self.queries.matmul(&self.key.forward(&encoded).transpose(1, 2)) / (self.width as f64).sqrt();
        let attention = scores.softmax(-1, Kind::Float);
        let context = attention.matmul(&self.value.forward(&encoded));
        (self.out.forward(&self.hidden.forward(&context).relu()), attention)
    }
}

/// A trained model's accuracy and its attention on a test sequence.
#[derive(Debug)]
pub struct AttentionMapRun {
    pub task: AlignmentTask,
    pub losses: Vec<f64>,
    /// Accuracy per output position on 1,000 fresh sequences.
    pub accuracy_by_position: Vec<f64>,
    /// The test sequence and the model's attention on it (`[L, L]`, rows: outputs, columns: inputs).
    pub example: Vec<i64>,
    pub map: Tensor,
    /// Per output row: the largest weight in the row.
    pub row_maxima: Vec<f64>,
}

impl AttentionMapRun {
    pub fn heatmap(&self) -> Result<Heatmap> {
        let mut heatmap = Heatmap::new("attention: outputs (rows) over inputs (columns)", &self.map, (0.0, 1.0))?;
        heatmap.column_labels = self.example.iter().enumerate().map(|(j, t)| format!("x{j}={t}")).collect();
        heatmap.row_labels = (0..self.example.len()).map(|i| format!("y{i}")).collect();
        Ok(heatmap)
    }
}

/// Trains an [`AttentionMapModel`] (width 32) on random sequences of `len`
/// tokens below `vocab` for `steps` Adam steps (3e-3, batches of 128).
pub fn train_alignment_task(task: AlignmentTask, vocab: i64, len: i64, steps: usize, seed: u64, device: Device) -> Result<AttentionMapRun> {
    crate::seed(seed);
    let vs = VarStore::new(device);
    let model = AttentionMapModel::new(&vs.root(), vocab, len, 32);
    let mut adam = nn::Adam::default().build(&vs, 3e-3)?;
    let mut losses = Vec::with_capacity(steps);
    for _ in 0..steps {
        let x = Tensor::randint(vocab, [128, len], (Kind::Int64, device));
        let (logits, _) = model.forward(&x);
        let loss = logits.view([-1, vocab]).cross_entropy_for_logits(&task.targets(&x, vocab).view([-1]));
        adam.backward_step(&loss);
        losses.push(loss.double_value(&[]));
    }
    let test = Tensor::randint(vocab, [1000, len], (Kind::Int64, device));
    let (logits, _) = tch::no_grad(|| model.forward(&test));
    let right = logits.argmax(-1, false).eq_tensor(&task.targets(&test, vocab)).to_kind(Kind::Float).mean_dim([0].as_slice(), false, Kind::Float);
    let example = test.get(0).unsqueeze(0);
    let (_, attention) = tch::no_grad(|| model.forward(&example));
    let map = attention.get(0).to_device(Device::Cpu);
    Ok(AttentionMapRun {
        task,
        losses,
        accuracy_by_position: Vec::<f64>::try_from(right.to_kind(Kind::Double).to_device(Device::Cpu))?,
        example: Vec::<i64>::try_from(example.get(0).to_device(Device::Cpu))?,
        row_maxima: Vec::<f64>::try_from(map.amax([1].as_slice(), false).to_kind(Kind::Double))?,
        map,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_and_the_ideal_map() {
        let x = Tensor::from_slice(&[1i64, 2, 3, 4, 5, 6]).view([1, 6]);
        let y = AlignmentTask::ReverseThenPairSums.targets(&x, 8);
        // First half reversed (6, 5, 4), then (1+2, 3+4, 5+6) mod 8.
        assert_eq!(Vec::<i64>::try_from(y.view([-1])).unwrap(), [6, 5, 4, 3, 7, 3]);
        let ideal = AlignmentTask::ReverseThenPairSums.ideal_map(6);
        assert_eq!(ideal.double_value(&[0, 5]), 1.0);
        assert_eq!((ideal.double_value(&[4, 2]), ideal.double_value(&[4, 3])), (0.5, 0.5));
        assert!(ideal.sum_dim_intlist(1, false, Kind::Float).allclose(&Tensor::ones([6], (Kind::Float, Device::Cpu)), 1e-6, 1e-6, false));
    }

    #[test]
    fn reversal_learns_a_one_hot_anti_diagonal() {
        let run = train_alignment_task(AlignmentTask::Reverse, 8, 6, 400, 0, Device::Cpu).unwrap();
        assert!(run.accuracy_by_position.iter().all(|&a| a > 0.9), "{:?}", run.accuracy_by_position);
        for i in 0..6 {
            assert!(run.map.double_value(&[i, 5 - i]) > 0.8, "row {i}: {}", run.map.get(i));
        }
        assert!(run.heatmap().is_ok());
    }
}
