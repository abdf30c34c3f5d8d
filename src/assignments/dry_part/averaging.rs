//! Question 4: an Adam-like optimiser whose two running averages (of the
//! gradient and of its square) are exponential moving averages, or plain
//! means of every gradient so far, on a valley whose curvature changes along
//! the way. The averaging itself is the student's function ([`AverageFn`]).
use crate::viz::LinePlot;
use crate::Result;
use std::fmt;
use tch::{Device, Kind, Tensor};

/// How a running average takes in a new value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Averaging {
    /// `beta * previous + (1 - beta) * value`.
    Ema { beta: f64 },
    /// The mean of all `step` values so far: `previous + (value - previous) / step`.
    Plain,
}

/// `(previous average, new value, step t counted from 1, averaging) -> new average`, elementwise.
pub type AverageFn = fn(&Tensor, &Tensor, i64, Averaging) -> Tensor;

/// A two-dimensional valley, `(1 - x)^2 + steepness * (y - x^2)^2` (Rosenbrock's
/// banana with a milder wall): steep walls far from the minimum at (1, 1), a flat
/// curved floor near it, so the gradients' size and direction change on the way.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Valley {
    pub steepness: f64,
    pub start: (f64, f64),
}

impl Default for Valley {
    fn default() -> Self {
        Valley { steepness: 10.0, start: (-1.5, 2.0) }
    }
}

impl Valley {
    /// The loss at `p` (`[2]`), a scalar.
    pub fn loss(&self, p: &Tensor) -> Tensor {
        let (x, y) = (p.get(0), p.get(1));
        (-&x + 1.0).square() + (y - x.square()).square() * self.steepness
    }
}

/// One optimiser run: the loss after each step and the path.
#[derive(Debug, Clone, PartialEq)]
pub struct OptimiserRun {
    pub name: String,
    pub losses: Vec<f64>,
    pub path: Vec<(f64, f64)>,
}

impl OptimiserRun {
    /// The first step after which the loss stays below `tolerance`, if any.
    pub fn steps_to(&self, tolerance: f64) -> Option<usize> {
        let last_above = self.losses.iter().rposition(|&l| l >= tolerance);
        match last_above {
            None => Some(0),
            Some(i) if i + 1 < self.losses.len() => Some(i + 1),
            Some(_) => None,
        }
    }

    /// Loss curves of several runs (log y).
    pub fn loss_figure(runs: &[OptimiserRun]) -> LinePlot {
        runs.iter().fold(LinePlot::new("loss on the valley").y_label("loss").log_y(true), |plot, r| {
            plot.line(r.name.clone(), r.losses.iter().map(|l| l.max(1e-12)).collect())
        })
    }

    /// The paths in the (x, y) plane, from the start to where each run ended; the minimum is at (1, 1).
    pub fn path_figure(runs: &[OptimiserRun]) -> LinePlot {
        runs.iter().fold(LinePlot::new("paths on the valley (minimum at (1, 1))").x_label("x").y_label("y"), |plot, r| {
            plot.xy(r.name.clone(), r.path.iter().map(|p| p.0).collect(), r.path.iter().map(|p| p.1).collect())
        })
    }
}

impl fmt::Display for OptimiserRun {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let end = self.path.last().copied().unwrap_or((f64::NAN, f64::NAN));
        let steps = |tol: f64| self.steps_to(tol).map_or("never".to_string(), |s| s.to_string());
        write!(
            f,
            "{}: final loss {:.2e} at ({:.3}, {:.3}); steps to stay below 1e-2: {}, below 1e-4: {}",
            self.name,
            self.losses.last().copied().unwrap_or(f64::NAN),
            end.0,
            end.1,
            steps(1e-2),
            steps(1e-4)
        )
    }
}

/// Runs the Adam-like optimiser for `steps` from the valley's start:
/// `m = average(m, g, t, first)`, `v = average(v, g^2, t, second)`, and
/// `p -= lr * m_hat / (sqrt(v_hat) + 1e-8)`, where an EMA is bias-corrected
/// (`m_hat = m / (1 - beta^t)`) and a plain mean needs no correction.
pub fn run_optimiser(name: &str, valley: &Valley, average: AverageFn, first: Averaging, second: Averaging, learning_rate: f64, steps: usize) -> Result<OptimiserRun> {
    let options = (Kind::Double, Device::Cpu);
    let mut p = Tensor::from_slice(&[valley.start.0, valley.start.1]).to_kind(Kind::Double);
    let (mut m, mut v) = (Tensor::zeros([2], options), Tensor::zeros([2], options));
    let correct = |avg: &Tensor, a: Averaging, t: i64| match a {
        Averaging::Ema { beta } => avg / (1.0 - beta.powi(t as i32)),
        Averaging::Plain => avg.shallow_clone(),
    };
    let mut run = OptimiserRun { name: name.into(), losses: Vec::with_capacity(steps), path: vec![valley.start] };
    for t in 1..=steps as i64 {
        let leaf = p.detach().set_requires_grad(true);
        let loss = valley.loss(&leaf);
        let g = Tensor::run_backward(&[&loss], &[&leaf], false, false).pop().expect("one gradient");
        m = average(&m, &g, t, first);
        v = average(&v, &g.square(), t, second);
        if m.size() != [2] || v.size() != [2] {
            return Err(crate::Error::shape("the average", &m.size(), "[2], the shape of the gradient it averages"));
        }
        p = p.detach() - correct(&m, first, t) / (correct(&v, second, t).sqrt() + 1e-8) * learning_rate;
        let now = valley.loss(&p).double_value(&[]);
        run.losses.push(now);
        run.path.push((p.double_value(&[0]), p.double_value(&[1])));
        if !now.is_finite() {
            break;
        }
    }
    Ok(run)
}

/// The reference answer to the notebook's FIXME.
#[cfg(feature = "solutions")]
pub fn average(previous: &Tensor, value: &Tensor, step: i64, averaging: Averaging) -> Tensor {
    match averaging {
        Averaging::Ema { beta } => previous * beta + value * (1.0 - beta),
        Averaging::Plain => previous + (value - previous) / step as f64,
    }
}

#[cfg(all(test, feature = "solutions"))]
mod tests {
    use super::*;

    #[test]
    fn the_plain_average_is_the_mean_and_the_ema_weights_recent_values() {
        let values = [4.0, 0.0, 2.0, 6.0];
        let (mut plain, mut ema) = (Tensor::zeros([1], (Kind::Double, Device::Cpu)), Tensor::zeros([1], (Kind::Double, Device::Cpu)));
        for (t, &x) in values.iter().enumerate() {
            let x = Tensor::from_slice(&[x]);
            plain = average(&plain, &x, t as i64 + 1, Averaging::Plain);
            ema = average(&ema, &x, t as i64 + 1, Averaging::Ema { beta: 0.5 });
        }
        assert!((plain.double_value(&[0]) - 3.0).abs() < 1e-12);
        // 0.5*6 + 0.25*2 + 0.125*0 + 0.0625*4
        assert!((ema.double_value(&[0]) - 3.75).abs() < 1e-12);
    }

    #[test]
    fn adam_like_with_emas_matches_torch_adam_on_the_valley() {
        // The same update as torch's Adam (betas 0.9, 0.999, eps 1e-8), run independently.
        let valley = Valley::default();
        let ours = run_optimiser("ema", &valley, average, Averaging::Ema { beta: 0.9 }, Averaging::Ema { beta: 0.999 }, 0.01, 50).unwrap();
        let vs = tch::nn::VarStore::new(Device::Cpu);
        let p = vs.root().var_copy("p", &Tensor::from_slice(&[-1.5f64, 2.0]).to_kind(Kind::Float));
        let mut adam = tch::nn::OptimizerConfig::build(tch::nn::Adam::default(), &vs, 0.01).unwrap();
        for _ in 0..50 {
            adam.backward_step(&valley.loss(&p));
        }
        let end = ours.path.last().unwrap();
        assert!((end.0 - p.double_value(&[0])).abs() < 1e-4 && (end.1 - p.double_value(&[1])).abs() < 1e-4, "{end:?} vs {p:?}");
    }

    #[test]
    fn both_runs_descend_and_report_their_steps() {
        let valley = Valley::default();
        let ema = run_optimiser("ema", &valley, average, Averaging::Ema { beta: 0.9 }, Averaging::Ema { beta: 0.999 }, 0.02, 800).unwrap();
        let plain = run_optimiser("plain", &valley, average, Averaging::Plain, Averaging::Plain, 0.02, 800).unwrap();
        assert_eq!((ema.losses.len(), ema.path.len()), (800, 801));
        let start = valley.loss(&Tensor::from_slice(&[-1.5f64, 2.0])).double_value(&[]);
        assert!(ema.losses[799] < start / 100.0 && plain.losses[799] < start, "{ema}\n{plain}");
        let run = OptimiserRun { name: "x".into(), losses: vec![1.0, 0.1, 0.5, 0.01, 0.001], path: vec![] };
        assert_eq!((run.steps_to(0.05), run.steps_to(0.0001), run.steps_to(10.0)), (Some(3), None, Some(0)));
        assert!(OptimiserRun::path_figure(&[ema, plain]).render().is_ok());
    }
}
