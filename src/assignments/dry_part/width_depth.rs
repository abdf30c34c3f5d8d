//! Question 2: one wide hidden layer against several narrow ones with the same
//! number of parameters, fitting a compositional target: the tent map
//! `g(x) = 1 - |2x - 1|` composed `k` times, a sawtooth with `2^k` linear pieces.
//! A ReLU layer of width `w` on a line makes at most `w + 1` pieces; `L` layers
//! can make a number of pieces exponential in `L`.
use crate::models::{Mlp, MlpConfig};
use crate::Result;
use std::fmt;
use tch::nn::{Module, OptimizerConfig, VarStore};
use tch::{Device, Kind, Tensor};

/// The tent map composed `compositions` times, elementwise on `x` in [0, 1].
pub fn sawtooth(x: &Tensor, compositions: usize) -> Tensor {
    (0..compositions).fold(x.shallow_clone(), |y, _| 1.0 - (y * 2.0 - 1.0).abs())
}

/// Parameters of an MLP `1 -> w -> ... (hidden layers) -> 1`.
pub fn mlp_parameters(hidden_layers: usize, width: usize) -> usize {
    2 * width + (hidden_layers - 1) * (width * width + width) + width + 1
}

/// The largest width whose MLP with `hidden_layers` layers has at most `budget` parameters (at least 1).
pub fn width_for_budget(budget: usize, hidden_layers: usize) -> usize {
    (1..=budget).take_while(|&w| mlp_parameters(hidden_layers, w) <= budget).last().unwrap_or(1)
}

/// One fit: depth, width, parameters, and the error on a fine grid.
#[derive(Debug, Clone, PartialEq)]
pub struct WidthDepthRow {
    pub budget: usize,
    pub hidden_layers: usize,
    pub width: usize,
    pub parameters: usize,
    /// Mean squared error on 1,024 points of [0, 1], mean over the seeds.
    pub mse: f64,
    /// The best seed's error.
    pub best_mse: f64,
}

/// The rows of a sweep, with a table as their `Display`.
#[derive(Debug, Clone, PartialEq)]
pub struct WidthDepthSweep(pub Vec<WidthDepthRow>);

impl fmt::Display for WidthDepthSweep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "budget | hidden layers x width | parameters | MSE (mean of seeds) | MSE (best seed)")?;
        for r in &self.0 {
            writeln!(f, "{:>6} | {:>6} x {:<13} | {:>10} | {:<19.5} | {:.5}", r.budget, r.hidden_layers, r.width, r.parameters, r.mse, r.best_mse)?;
        }
        Ok(())
    }
}

impl WidthDepthSweep {
    /// Error against parameters, one line per depth (log y).
    pub fn figure(&self) -> crate::viz::LinePlot {
        let mut depths: Vec<usize> = self.0.iter().map(|r| r.hidden_layers).collect();
        depths.sort();
        depths.dedup();
        depths.iter().fold(
            crate::viz::LinePlot::new("fit error on the sawtooth").x_label("parameters").y_label("MSE").log_y(true),
            |plot, &depth| {
                let rows: Vec<&WidthDepthRow> = self.0.iter().filter(|r| r.hidden_layers == depth).collect();
                plot.xy(
                    format!("{depth} hidden layer{}", if depth == 1 { "" } else { "s" }),
                    rows.iter().map(|r| r.parameters as f64).collect(),
                    rows.iter().map(|r| r.mse.max(1e-8)).collect(),
                )
            },
        )
    }
}

impl crate::viz::Display for WidthDepthSweep {
    fn evcxr_display(&self) {
        println!("{self}");
        self.figure().evcxr_display();
    }
}

/// Fits `sawtooth(x, compositions)` on 256 evenly spaced points with full-batch
/// Adam (1e-2) for `steps`, for every budget and depth, seeds 0 and 1.
pub fn width_depth_sweep(budgets: &[usize], depths: &[usize], compositions: usize, steps: usize, device: Device) -> Result<WidthDepthSweep> {
    let x = Tensor::linspace(0.0, 1.0, 256, (Kind::Float, device)).unsqueeze(1);
    let y = sawtooth(&x, compositions);
    let grid = Tensor::linspace(0.0, 1.0, 1024, (Kind::Float, device)).unsqueeze(1);
    let target = sawtooth(&grid, compositions);
    let mut rows = Vec::new();
    for &budget in budgets {
        for &depth in depths {
            let width = width_for_budget(budget, depth);
            let mut errors = Vec::new();
            for seed in [0u64, 1] {
                crate::seed(seed);
                let vs = VarStore::new(device);
                let mut sizes = vec![1i64];
                sizes.extend(std::iter::repeat_n(width as i64, depth));
                sizes.push(1);
                let mlp = Mlp::new(&vs.root(), &MlpConfig { sizes });
                let mut adam = tch::nn::Adam::default().build(&vs, 1e-2)?;
                for _ in 0..steps {
                    adam.backward_step(&mlp.forward(&x).mse_loss(&y, tch::Reduction::Mean));
                }
                errors.push(tch::no_grad(|| mlp.forward(&grid).mse_loss(&target, tch::Reduction::Mean)).double_value(&[]));
            }
            let row = WidthDepthRow {
                budget,
                hidden_layers: depth,
                width,
                parameters: mlp_parameters(depth, width),
                mse: errors.iter().sum::<f64>() / errors.len() as f64,
                best_mse: errors.iter().cloned().fold(f64::INFINITY, f64::min),
            };
            println!("budget {budget}: {depth} x {width} ({} parameters), MSE {:.5} (best seed {:.5})", row.parameters, row.mse, row.best_mse);
            rows.push(row);
        }
    }
    Ok(WidthDepthSweep(rows))
}

/// The sawtooth drawn exactly by a deep, narrow ReLU network built by hand:
/// one hidden layer of width 2 per tent (`g(x) = 2 relu(x) - 4 relu(x - 1/2)` on
/// [0, 1]), the read-out of one tent folded into the next layer. Returns its
/// parameter count and its mean squared error on 1,024 points (rounding only).
pub fn sawtooth_by_hand(compositions: usize) -> Result<(usize, f64)> {
    let vs = VarStore::new(Device::Cpu);
    let mut sizes = vec![1i64];
    sizes.extend(std::iter::repeat_n(2, compositions));
    sizes.push(1);
    let mlp = Mlp::new(&vs.root(), &MlpConfig { sizes });
    let variables = vs.variables();
    let set = |name: &str, values: &[f32], shape: &[i64]| -> Result<()> {
        let var = variables.get(name).ok_or_else(|| crate::Error::Missing(format!("parameter {name}")))?;
        tch::no_grad(|| var.shallow_clone().copy_(&Tensor::from_slice(values).view(shape)));
        Ok(())
    };
    // The first layer splits x into relu(x) and relu(x - 1/2).
    set("layer0.weight", &[1.0, 1.0], &[2, 1])?;
    set("layer0.bias", &[0.0, -0.5], &[2])?;
    // Each later layer reads the previous tent, 2 h0 - 4 h1, and splits it again.
    for i in 1..compositions {
        set(&format!("layer{i}.weight"), &[2.0, -4.0, 2.0, -4.0], &[2, 2])?;
        set(&format!("layer{i}.bias"), &[0.0, -0.5], &[2])?;
    }
    set(&format!("layer{compositions}.weight"), &[2.0, -4.0], &[1, 2])?;
    set(&format!("layer{compositions}.bias"), &[0.0], &[1])?;
    let grid = Tensor::linspace(0.0, 1.0, 1024, (Kind::Float, Device::Cpu)).unsqueeze(1);
    let mse = tch::no_grad(|| mlp.forward(&grid).mse_loss(&sawtooth(&grid, compositions), tch::Reduction::Mean)).double_value(&[]);
    Ok((vs.trainable_variables().iter().map(|v| v.numel()).sum(), mse))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sawtooth_has_two_to_the_k_pieces() {
        let x = Tensor::from_slice(&[0.0f32, 0.125, 0.25, 0.375, 0.5, 0.0625]);
        let y = Vec::<f32>::try_from(sawtooth(&x, 3)).unwrap();
        // g(g(g(x))): peaks at odd multiples of 1/8, zeros at multiples of 1/4.
        assert_eq!(y[..5], [0.0, 1.0, 0.0, 1.0, 0.0]);
        assert!((y[5] - 0.5).abs() < 1e-6);
    }

    #[test]
    fn widths_fill_the_budget_without_passing_it() {
        // One hidden layer of w: 3w + 1 parameters.
        assert_eq!(mlp_parameters(1, 10), 31);
        assert_eq!(width_for_budget(31, 1), 10);
        assert_eq!(width_for_budget(30, 1), 9);
        // Two layers of 5: 10 + 30 + 6 = 46.
        assert_eq!(mlp_parameters(2, 5), 46);
        for (budget, depth) in [(50, 3), (200, 2), (800, 4)] {
            let w = width_for_budget(budget, depth);
            assert!(mlp_parameters(depth, w) <= budget && mlp_parameters(depth, w + 1) > budget);
        }
    }

    #[test]
    fn five_layers_of_two_draw_32_pieces_exactly() {
        let (parameters, mse) = sawtooth_by_hand(5).unwrap();
        // 4 + 4 x 6 + 3: a single hidden layer needs 31 units (94 parameters) for 32 pieces.
        assert_eq!(parameters, 31);
        assert!(mse < 1e-10, "{mse}");
    }

    #[test]
    fn a_fit_lowers_the_error_below_a_constant_guess() {
        // Predicting the mean 0.5 scores 1/12 on the sawtooth.
        let sweep = width_depth_sweep(&[100], &[1, 2], 2, 600, Device::Cpu).unwrap();
        assert_eq!(sweep.0.len(), 2);
        for row in &sweep.0 {
            assert!(row.parameters <= 100);
            assert!(row.best_mse < 1.0 / 12.0 / 2.0, "{sweep}");
        }
        assert!(sweep.figure().render().is_ok());
    }
}
