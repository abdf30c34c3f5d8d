//! Question 7: the cost of `softmax(Q K^T / sqrt d) V` (an `n x n` matrix:
//! `O(n^2 d)`) against Bob's re-ordering `softmax(Q / sqrt d) (K^T V)` (a
//! `d x d` matrix: `O(n d^2)`), timed over `n` at fixed `d`, and a check that
//! the two are different functions.
use crate::viz::{Display, LinePlot};
use std::fmt;
use std::time::Instant;
use tch::{Device, Kind, Tensor};

/// Bob's attention, the student's function: `[n, d]` three times -> `[n, d]`.
pub type ReorderedAttentionFn = fn(&Tensor, &Tensor, &Tensor) -> Tensor;

/// Scaled dot-product attention for one head: `[n, d]`, `[n, d]`, `[n, d]` -> `[n, d]`.
pub fn softmax_attention(q: &Tensor, k: &Tensor, v: &Tensor) -> Tensor {
    let d = q.size()[1] as f64;
    (q.matmul(&k.tr()) / d.sqrt()).softmax(-1, q.kind()).matmul(v)
}

/// Median milliseconds of both forms at one length.
#[derive(Debug, Clone, PartialEq)]
pub struct AttentionTiming {
    pub n: i64,
    pub full_ms: f64,
    pub reordered_ms: f64,
}

/// Timings over `n`, with the cost models fitted to them.
#[derive(Debug, Clone, PartialEq)]
pub struct AttentionTimings {
    pub d: i64,
    pub rows: Vec<AttentionTiming>,
}

impl AttentionTimings {
    /// `c n^2 d` and `c' n d^2`, each constant fitted (least squares in log
    /// space) to the measurements of the longer half of the lengths, where the
    /// fixed overheads of a call matter least.
    pub fn predictions(&self) -> Vec<(f64, f64)> {
        let longer = &self.rows[self.rows.len() / 2..];
        let fit = |time: fn(&AttentionTiming) -> f64, cost: &dyn Fn(f64) -> f64| {
            let logs: f64 = longer.iter().map(|r| (time(r) / cost(r.n as f64)).ln()).sum::<f64>() / longer.len() as f64;
            logs.exp()
        };
        let d = self.d as f64;
        let full_cost = move |n: f64| n * n * d;
        let reordered_cost = move |n: f64| n * d * d;
        let (c_full, c_reordered) = (fit(|r| r.full_ms, &full_cost), fit(|r| r.reordered_ms, &reordered_cost));
        self.rows.iter().map(|r| (c_full * full_cost(r.n as f64), c_reordered * reordered_cost(r.n as f64))).collect()
    }

    /// The shortest measured length from which the re-ordered form is faster at every longer length.
    pub fn measured_crossover(&self) -> Option<i64> {
        let last_slower = self.rows.iter().rposition(|r| r.reordered_ms >= r.full_ms);
        match last_slower {
            None => self.rows.first().map(|r| r.n),
            Some(i) => self.rows.get(i + 1).map(|r| r.n),
        }
    }

    /// Measured and predicted milliseconds against log2 n (log y).
    pub fn figure(&self) -> LinePlot {
        let x: Vec<f64> = self.rows.iter().map(|r| (r.n as f64).log2()).collect();
        let predicted = self.predictions();
        LinePlot::new(format!("attention cost at d = {}", self.d))
            .x_label("log2 n")
            .y_label("milliseconds")
            .log_y(true)
            .xy("softmax(QK^T)V, measured", x.clone(), self.rows.iter().map(|r| r.full_ms.max(1e-4)).collect())
            .xy("softmax(Q)(K^T V), measured", x.clone(), self.rows.iter().map(|r| r.reordered_ms.max(1e-4)).collect())
            .xy("c n^2 d", x.clone(), predicted.iter().map(|p| p.0.max(1e-4)).collect())
            .xy("c' n d^2", x, predicted.iter().map(|p| p.1.max(1e-4)).collect())
    }
}

impl fmt::Display for AttentionTimings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "     n | softmax(QK^T/sqrt d)V ms | softmax(Q/sqrt d)(K^T V) ms | ratio | predicted ratio n/d")?;
        for r in &self.rows {
            writeln!(f, "{:>6} | {:>24.3} | {:>27.3} | {:>5.1} | {:.1}", r.n, r.full_ms, r.reordered_ms, r.full_ms / r.reordered_ms, r.n as f64 / self.d as f64)?;
        }
        match self.measured_crossover() {
            Some(n) => write!(f, "measured: the re-ordered form is faster from n = {n}; the operation counts n^2 d and n d^2 cross at n = d = {}", self.d),
            None => write!(f, "measured: the re-ordered form was not faster at the longest n; the operation counts cross at n = d = {}", self.d),
        }
    }
}

impl Display for AttentionTimings {
    fn evcxr_display(&self) {
        println!("{self}");
        self.figure().evcxr_display();
    }
}

/// Median of `repeats` runs of each form (after one warm-up) for each `n`, at width `d`.
pub fn time_attention(ns: &[i64], d: i64, reordered: ReorderedAttentionFn, repeats: usize, device: Device) -> AttentionTimings {
    let median_ms = |run: &dyn Fn() -> Tensor| {
        let sync = || {
            if let Device::Cuda(i) = device {
                tch::Cuda::synchronize(i as i64);
            }
        };
        drop(run());
        sync();
        let mut times: Vec<f64> = (0..repeats.max(1))
            .map(|_| {
                let start = Instant::now();
                let out = run();
                sync();
                drop(out);
                start.elapsed().as_secs_f64() * 1e3
            })
            .collect();
        times.sort_by(f64::total_cmp);
        times[times.len() / 2]
    };
    let rows = tch::no_grad(|| {
        ns.iter()
            .map(|&n| {
                let (q, k, v) = (Tensor::randn([n, d], (Kind::Float, device)), Tensor::randn([n, d], (Kind::Float, device)), Tensor::randn([n, d], (Kind::Float, device)));
                AttentionTiming { n, full_ms: median_ms(&|| softmax_attention(&q, &k, &v)), reordered_ms: median_ms(&|| reordered(&q, &k, &v)) }
            })
            .collect()
    });
    AttentionTimings { d, rows }
}

/// `|reordered - full| / |full|` on random `[n, d]` inputs (seeded): zero would mean the same function.
pub fn attention_outputs_differ(reordered: ReorderedAttentionFn, n: i64, d: i64, seed: u64) -> f64 {
    crate::seed(seed);
    let (q, k, v) = (Tensor::randn([n, d], (Kind::Float, Device::Cpu)), Tensor::randn([n, d], (Kind::Float, Device::Cpu)), Tensor::randn([n, d], (Kind::Float, Device::Cpu)));
    let full = softmax_attention(&q, &k, &v);
    (reordered(&q, &k, &v) - &full).norm().double_value(&[]) / full.norm().double_value(&[])
}

/// The reference answer to the notebook's FIXME: Bob's re-ordering, softmax over each query's `d` numbers.
#[cfg(feature = "solutions")]
pub fn reordered_attention(q: &Tensor, k: &Tensor, v: &Tensor) -> Tensor {
    let d = q.size()[1] as f64;
    (q / d.sqrt()).softmax(-1, q.kind()).matmul(&k.tr().matmul(v))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn softmax_attention_matches_a_loop_in_f64() {
        let _rng = crate::seed::seeded_test(11);
        let (q, k, v) = (Tensor::randn([3, 4], (Kind::Double, Device::Cpu)), Tensor::randn([5, 4], (Kind::Double, Device::Cpu)), Tensor::randn([5, 4], (Kind::Double, Device::Cpu)));
        let got = softmax_attention(&q, &k, &v);
        for i in 0..3 {
            let scores: Vec<f64> = (0..5).map(|j| (0..4).map(|c| q.double_value(&[i, c]) * k.double_value(&[j, c])).sum::<f64>() / 2.0).collect();
            let total: f64 = scores.iter().map(|s| s.exp()).sum();
            for c in 0..4 {
                let want: f64 = (0..5).map(|j| scores[j as usize].exp() / total * v.double_value(&[j, c])).sum();
                assert!((got.double_value(&[i, c]) - want).abs() < 1e-9);
            }
        }
    }

    #[test]
    fn crossover_and_predictions_from_known_timings() {
        let t = AttentionTimings {
            d: 4,
            rows: vec![
                AttentionTiming { n: 2, full_ms: 1.0, reordered_ms: 2.0 },
                AttentionTiming { n: 8, full_ms: 3.0, reordered_ms: 2.5 },
                AttentionTiming { n: 16, full_ms: 2.0, reordered_ms: 2.1 },
                AttentionTiming { n: 32, full_ms: 8.0, reordered_ms: 2.0 },
            ],
        };
        assert_eq!(t.measured_crossover(), Some(32));
        // Fitted on n = 16 and 32: c = geometric mean of 2/(16^2 4) and 8/(32^2 4).
        let c = ((2.0 / 1024.0f64).ln() / 2.0 + (8.0 / 4096.0f64).ln() / 2.0).exp();
        assert!((t.predictions()[3].0 - c * 4096.0).abs() < 1e-9);
    }

    #[cfg(feature = "solutions")]
    #[test]
    fn the_reordering_is_timed_and_is_another_function() {
        let timings = time_attention(&[32, 1024], 32, reordered_attention, 3, Device::Cpu);
        assert_eq!(timings.rows.len(), 2);
        assert!(timings.rows.iter().all(|r| r.full_ms > 0.0 && r.reordered_ms > 0.0), "{timings}");
        assert_eq!(reordered_attention(&Tensor::ones([5, 3], (Kind::Float, Device::Cpu)), &Tensor::ones([5, 3], (Kind::Float, Device::Cpu)), &Tensor::ones([5, 3], (Kind::Float, Device::Cpu))).size(), [5, 3]);
        assert!(attention_outputs_differ(reordered_attention, 16, 8, 0) > 0.1);
        assert!(timings.figure().render().is_ok());
    }
}
