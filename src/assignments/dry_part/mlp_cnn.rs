//! Questions 3 and 6: an MLP against a CNN on digit images (parameters,
//! accuracy with all the data and with little, accuracy on shifted test
//! images), a convolution written out as the matrix it is, and the
//! translation-equivariance of a convolution against a dense layer.
use crate::data::{DigitsChoice, FlatDigits};
use crate::train::{LoopConfig, ParamGroup, Trainer};
use crate::Result;
use std::fmt;
use tch::nn::{self, Module, VarStore};
use tch::{Device, Kind, Tensor};

/// Which network.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClassifierKind {
    /// Flatten, 128 hidden units, 10 outputs.
    Mlp,
    /// Two 3x3 convolutions (16, 32 channels, zero padding) with a 2x2 max-pool between,
    /// a global max-pool, 10 outputs.
    Cnn,
}

/// A digit classifier: `[B, 1, S, S]` -> logits `[B, 10]`.
#[derive(Debug)]
pub struct Classifier {
    pub kind: ClassifierKind,
    layers: Vec<nn::Linear>,
    convs: Vec<nn::Conv2D>,
}

impl Classifier {
    pub fn new(p: &nn::Path, kind: ClassifierKind, side: i64) -> Self {
        let same = nn::ConvConfig { padding: 1, ..Default::default() };
        match kind {
            ClassifierKind::Mlp => Classifier {
                kind,
                layers: vec![nn::linear(p / "hidden", side * side, 128, Default::default()), nn::linear(p / "out", 128, 10, Default::default())],
                convs: Vec::new(),
            },
            ClassifierKind::Cnn => Classifier {
                kind,
                layers: vec![nn::linear(p / "out", 32, 10, Default::default())],
                convs: vec![nn::conv2d(p / "conv1", 1, 16, 3, same), nn::conv2d(p / "conv2", 16, 32, 3, same)],
            },
        }
    }
}

impl Module for Classifier {
    fn forward(&self, x: &Tensor) -> Tensor {
        match self.kind {
            ClassifierKind::Mlp => self.layers[1].forward(&self.layers[0].forward(&x.flatten(1, -1)).relu()),
            ClassifierKind::Cnn => {
                let h = self.convs[0].forward(x).relu().max_pool2d_default(2);
                let h = self.convs[1].forward(&h).relu().amax([2, 3].as_slice(), false);
                self.layers[0].forward(&h)
            }
        }
    }
}

/// Images `[N, C, H, W]` moved `dx` pixels right and `dy` down (negative: left, up),
/// with zeros where nothing moved in.
pub fn shift_images(images: &Tensor, dx: i64, dy: i64) -> Tensor {
    let (h, w) = (images.size()[2], images.size()[3]);
    let padded = images.constant_pad_nd([dx.max(0), (-dx).max(0), dy.max(0), (-dy).max(0)]);
    padded.narrow(2, (-dy).max(0), h).narrow(3, (-dx).max(0), w)
}

/// The digits as images with `margin` blank pixels around them, so a shift by up to `margin` loses nothing.
fn with_margin(digits: &FlatDigits, margin: i64) -> Tensor {
    digits.images().constant_pad_nd([margin, margin, margin, margin])
}

/// Accuracy of each network trained on all of the training digits and on a few, tested on shifted digits.
#[derive(Debug, Clone, PartialEq)]
pub struct MlpCnnComparison {
    pub mlp_parameters: usize,
    pub cnn_parameters: usize,
    pub shifts: Vec<i64>,
    /// (network, training images, accuracy at each shift).
    pub rows: Vec<(ClassifierKind, i64, Vec<f64>)>,
}

impl fmt::Display for MlpCnnComparison {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "parameters: MLP {}, CNN {}", self.mlp_parameters, self.cnn_parameters)?;
        let header: Vec<String> = self.shifts.iter().map(|s| format!("shift {s} px")).collect();
        writeln!(f, "network | training images | {}", header.join(" | "))?;
        for (kind, n, accuracies) in &self.rows {
            let cells: Vec<String> = accuracies.iter().map(|a| format!("{:>10.1}%", 100.0 * a)).collect();
            writeln!(f, "{:<7} | {n:>15} | {}", format!("{kind:?}"), cells.join(" | "))?;
        }
        Ok(())
    }
}

impl MlpCnnComparison {
    /// The accuracies of `kind` trained on `n` images.
    pub fn accuracies(&self, kind: ClassifierKind, n: i64) -> Option<&[f64]> {
        self.rows.iter().find(|r| r.0 == kind && r.1 == n).map(|r| r.2.as_slice())
    }
}

/// A classifier of `kind` for `[N, 1, S, S]` images, seeded with 0 and trained
/// (Adam 3e-3, batches of 64, `epochs`) on the first `n` of `images` and
/// `labels`; with its parameter count.
fn train_classifier(kind: ClassifierKind, images: &Tensor, labels: &Tensor, n: i64, epochs: usize, label: &str, device: Device) -> Result<(Classifier, usize)> {
    crate::seed(0);
    let vs = VarStore::new(device);
    let net = Classifier::new(&vs.root(), kind, images.size()[2]);
    let parameters = vs.trainable_variables().iter().map(|v| v.numel()).sum();
    let run = LoopConfig { epochs, batch_size: 64, max_steps_per_epoch: None, seed: 0, device };
    Trainer::new(label, "cross-entropy", &run).group(ParamGroup::adam(&vs, 3e-3)).quiet().fit(n as usize, |batch| {
        let rows = Tensor::from_slice(batch.indices).to_device(device);
        Ok(net.forward(&images.index_select(0, &rows)).cross_entropy_for_logits(&labels.index_select(0, &rows)))
    })?;
    Ok((net, parameters))
}

/// The share of `images` whose arg-max class is their label.
fn test_accuracy(net: &Classifier, images: &Tensor, labels: &Tensor) -> f64 {
    let predicted = tch::no_grad(|| net.forward(images)).argmax(1, false);
    predicted.eq_tensor(labels).to_kind(Kind::Float).mean(Kind::Float).double_value(&[])
}

/// Trains an MLP and a CNN (Adam 3e-3, batches of 64, `epochs`) on all the
/// training digits and on the first `few`, each seeded the same, and tests
/// each on the test digits shifted diagonally by each of `shifts` pixels.
pub fn compare_mlp_cnn(digits: &DigitsChoice, few: i64, epochs: usize, shifts: &[i64], device: Device) -> Result<MlpCnnComparison> {
    let margin = shifts.iter().map(|s| s.abs()).max().unwrap_or(0);
    let train_images = with_margin(&digits.train, margin).to_device(device);
    let test_images = with_margin(&digits.test, margin).to_device(device);
    let (train_labels, test_labels) = (digits.train.labels.to_device(device), digits.test.labels.to_device(device));
    let mut comparison = MlpCnnComparison { mlp_parameters: 0, cnn_parameters: 0, shifts: shifts.to_vec(), rows: Vec::new() };
    for n in [digits.train.len(), few.min(digits.train.len())] {
        for kind in [ClassifierKind::Mlp, ClassifierKind::Cnn] {
            // About as many images whatever the data: small data gets more epochs.
            let epochs_here = epochs * (digits.train.len() as usize).div_ceil(n as usize);
            let (net, parameters) = train_classifier(kind, &train_images, &train_labels, n, epochs_here, &format!("{kind:?} on {n} digits"), device)?;
            match kind {
                ClassifierKind::Mlp => comparison.mlp_parameters = parameters,
                ClassifierKind::Cnn => comparison.cnn_parameters = parameters,
            }
            let accuracies: Vec<f64> = shifts.iter().map(|&s| test_accuracy(&net, &shift_images(&test_images, s, s), &test_labels)).collect();
            println!("{kind:?} ({parameters} parameters) on {n} digits: accuracy {:.1}% unshifted", 100.0 * accuracies[0]);
            comparison.rows.push((kind, n, accuracies));
        }
    }
    Ok(comparison)
}

/// Where translation-invariance should hurt: the label is which way a digit
/// was moved (0: `shift` pixels left, 1: right), not which digit it is. (The
/// CNN's zero padding still lets it see the borders, so it is not blind to position.) Trains an MLP
/// and a CNN as [`compare_mlp_cnn`] does for `epochs` on the training digits
/// and returns their test accuracies (MLP, CNN); chance is 50%.
pub fn compare_on_position_task(digits: &DigitsChoice, shift: i64, epochs: usize, device: Device) -> Result<(f64, f64)> {
    let moved = |d: &FlatDigits| {
        let images = with_margin(d, shift);
        let n = d.len();
        let labels = Tensor::arange(n, (Kind::Int64, Device::Cpu)).remainder(2);
        let left = shift_images(&images, -shift, 0);
        let right = shift_images(&images, shift, 0);
        let pick = labels.view([-1, 1, 1, 1]).to_kind(Kind::Bool);
        (left.where_self(&pick.logical_not(), &right).to_device(device), labels.to_device(device))
    };
    let ((train_x, train_y), (test_x, test_y)) = (moved(&digits.train), moved(&digits.test));
    let mut accuracies = Vec::new();
    for kind in [ClassifierKind::Mlp, ClassifierKind::Cnn] {
        let (net, _) = train_classifier(kind, &train_x, &train_y, train_y.size()[0], epochs, &format!("{kind:?} on the position task"), device)?;
        accuracies.push(test_accuracy(&net, &test_x, &test_y));
    }
    Ok((accuracies[0], accuracies[1]))
}

/// The matrix `M` (`[C_out*H*W, C_in*H*W]`) of the linear part of `conv` on
/// `[1, C_in, H, W]` inputs: column `j` is `conv(e_j) - conv(0)`.
pub fn conv_as_matrix(conv: &nn::Conv2D, channels: i64, h: i64, w: i64) -> Tensor {
    let n = channels * h * w;
    let device = conv.ws.device();
    tch::no_grad(|| {
        let basis = Tensor::eye(n, (Kind::Float, device)).view([n, channels, h, w]);
        let zero = conv.forward(&Tensor::zeros([1, channels, h, w], (Kind::Float, device)));
        (conv.forward(&basis) - zero).flatten(1, -1).tr()
    })
}

/// How far `f` is from affine on `x` and `y`: `|f(x + y) - f(x) - f(y) + f(0)| / |f(x + y)|`
/// (zero for a linear or affine map, up to rounding).
pub fn linearity_error(f: &dyn Fn(&Tensor) -> Tensor, x: &Tensor, y: &Tensor) -> f64 {
    tch::no_grad(|| {
        let sum = f(&(x + y));
        let gap = &sum - f(x) - f(y) + f(&x.zeros_like());
        gap.norm().double_value(&[]) / sum.norm().double_value(&[]).max(1e-12)
    })
}

/// How far `f` (images to images of the same size) is from translation-equivariant:
/// `|f(shift(x)) - shift(f(x))| / |f(x)|`, compared away from a border of `border` pixels.
pub fn equivariance_error(f: &dyn Fn(&Tensor) -> Tensor, x: &Tensor, shift: i64, border: i64) -> f64 {
    tch::no_grad(|| {
        let (h, w) = (x.size()[2], x.size()[3]);
        let inner = |t: Tensor| t.narrow(2, border, h - 2 * border).narrow(3, border, w - 2 * border);
        let moved_after = inner(shift_images(&f(x), shift, shift));
        let moved_before = inner(f(&shift_images(x, shift, shift)));
        (moved_before - &moved_after).norm().double_value(&[]) / moved_after.norm().double_value(&[]).max(1e-12)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shifting_moves_pixels_and_fills_zeros() {
        let x = Tensor::arange(9, (Kind::Float, Device::Cpu)).view([1, 1, 3, 3]) + 1.0;
        let right = shift_images(&x, 1, 0);
        assert_eq!(Vec::<f32>::try_from(right.flatten(0, -1)).unwrap(), [0.0, 1.0, 2.0, 0.0, 4.0, 5.0, 0.0, 7.0, 8.0]);
        let up = shift_images(&x, 0, -1);
        assert_eq!(Vec::<f32>::try_from(up.flatten(0, -1)).unwrap(), [4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 0.0, 0.0, 0.0]);
    }

    #[test]
    fn a_convolution_is_its_matrix_and_equivariant_a_dense_layer_is_neither() {
        let _rng = crate::seed::seeded_test(3);
        let vs = VarStore::new(Device::Cpu);
        let conv = nn::conv2d(vs.root() / "c", 2, 3, 3, nn::ConvConfig { padding: 1, ..Default::default() });
        let m = conv_as_matrix(&conv, 2, 5, 5);
        assert_eq!(m.size(), [75, 50]);
        let x = Tensor::randn([1, 2, 5, 5], (Kind::Float, Device::Cpu));
        // conv(x) = M x + conv(0), with M computed column by column from basis images.
        let by_matrix = m.matmul(&x.flatten(0, -1)) + conv.forward(&x.zeros_like()).flatten(0, -1);
        let direct = tch::no_grad(|| conv.forward(&x)).flatten(0, -1);
        assert!(by_matrix.allclose(&direct, 1e-5, 1e-5, false));
        // Each output pixel sees at most 3x3x2 = 18 inputs: the matrix is sparse.
        let nonzero_per_row = m.ne(0.0).sum_dim_intlist(1, false, Kind::Int64).max().int64_value(&[]);
        assert_eq!(nonzero_per_row, 18);
        let y = Tensor::randn([1, 2, 5, 5], (Kind::Float, Device::Cpu));
        assert!(linearity_error(&|t| conv.forward(t), &x, &y) < 1e-5);
        assert!(linearity_error(&|t| conv.forward(t).relu(), &x, &y) > 0.05);
        let img = Tensor::rand([4, 2, 12, 12], (Kind::Float, Device::Cpu));
        assert!(equivariance_error(&|t| conv.forward(t), &img, 2, 3) < 1e-5);
        let dense = nn::linear(vs.root() / "d", 2 * 144, 3 * 144, Default::default());
        let as_image = |t: &Tensor| dense.forward(&t.flatten(1, -1)).view([-1, 3, 12, 12]);
        assert!(equivariance_error(&as_image, &img, 2, 3) > 0.3);
    }

    #[test]
    fn the_cnn_has_fewer_parameters_and_shrugs_off_a_shift_better() {
        let digits = super::super::test_digits();
        let c = compare_mlp_cnn(&digits, 100, 8, &[0, 2], Device::Cpu).unwrap();
        assert!(c.cnn_parameters < c.mlp_parameters / 2, "{c}");
        let (mlp, cnn) = (c.accuracies(ClassifierKind::Mlp, 600).unwrap(), c.accuracies(ClassifierKind::Cnn, 600).unwrap());
        assert!(mlp[0] > 0.7 && cnn[0] > 0.7, "{c}");
        assert!(mlp[0] - mlp[1] > cnn[0] - cnn[1], "the MLP should lose more to a 2-pixel shift: {c}");
        assert_eq!(c.rows.len(), 4);
        let (mlp, cnn) = compare_on_position_task(&digits, 2, 4, Device::Cpu).unwrap();
        // The MLP reads position directly; the pooled CNN only through its zero padding.
        assert!(mlp > 0.95 && cnn < mlp, "which way a digit moved: MLP {mlp}, CNN {cnn}");
    }
}
