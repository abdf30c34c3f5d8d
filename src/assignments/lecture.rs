//! The lecture "what representation learning is" (seed 002): the pieces its
//! demos call, so the notebook's cells stay short enough to step through.
//!
//! The notebook's first cell is `let setup = lecture::setup(Budget::Auto)?;`.
use crate::data::{Digits, Shapes, ShapesConfig};
use crate::reduce::{leave_one_out_knn_accuracy, trustworthiness, Reducer};
use crate::train::Budget;
use crate::viz::ScatterGrid;
use crate::{Error, Result};
use std::fmt;
use std::time::Instant;
use tch::nn::{self, OptimizerConfig};
use tch::{Device, Kind, Tensor};

/// What the demos run on.
#[derive(Debug, Clone, PartialEq)]
pub struct LectureConfig {
    /// How many of the 1,797 digits the seven reductions embed.
    pub digits: usize,
    /// Points on the swiss roll.
    pub swiss_roll: usize,
    /// Shapes images for the disentanglement demo.
    pub shapes: usize,
}

impl LectureConfig {
    /// All 1,797 digits, as in class.
    pub fn full() -> Self {
        LectureConfig { digits: 1797, swiss_roll: 1500, shapes: 2000 }
    }

    /// A few seconds per cell on two CPU cores.
    pub fn quick() -> Self {
        LectureConfig { digits: 600, swiss_roll: 800, shapes: 1000 }
    }

    pub fn for_budget(budget: Budget) -> Self {
        if budget.is_quick() {
            Self::quick()
        } else {
            Self::full()
        }
    }
}

/// What the first cell returns.
#[derive(Debug)]
pub struct LectureSetup {
    pub device: Device,
    pub budget: Budget,
    pub config: LectureConfig,
    /// The first `config.digits` of scikit-learn's digits.
    pub digits: Digits,
}

/// Seeds libtorch, reads the digits from the installed scikit-learn and prints
/// the device, the budget and the data.
pub fn setup(budget: Budget) -> Result<LectureSetup> {
    crate::seed(0);
    let device = crate::device();
    let config = LectureConfig::for_budget(budget);
    let digits = Digits::from_scikit_learn()?.first(config.digits);
    println!("device: {device:?}");
    println!("budget: {} ({}): {} digits, {} swiss-roll points", budget, budget.reason(), digits.len(), config.swiss_roll);
    println!("data: scikit-learn's 8x8 digits, read from the installed scikit-learn (no download)");
    Ok(LectureSetup { device, budget: budget.resolve(), config, digits })
}

/// The topics of [`topic_sentences`].
pub const TOPICS: [&str; 4] = ["animals", "weather", "food", "sport"];

/// Thirty-two short sentences, eight per topic, with their topic (index into [`TOPICS`]).
pub fn topic_sentences() -> Vec<(&'static str, usize)> {
    const BY_TOPIC: [[&str; 8]; 4] = [
        [
            "the cat sleeps on the sofa",
            "a dog chased the ball across the yard",
            "horses graze in the field",
            "the parrot repeated every word",
            "a fox slipped into the henhouse",
            "our hamster runs in its wheel all night",
            "cows were waiting at the gate",
            "the kitten is playing with a string",
        ],
        [
            "it will rain all afternoon",
            "a cold wind is blowing from the north",
            "the sun finally came out",
            "snow is expected tonight",
            "thunder rolled over the hills",
            "fog covered the valley this morning",
            "it is humid and very hot today",
            "a storm is coming in from the sea",
        ],
        [
            "she baked fresh bread",
            "the soup needs more salt",
            "we had pasta with tomato sauce",
            "he peeled an orange for dessert",
            "the pancakes were fluffy",
            "grill the fish for ten minutes",
            "a bowl of rice with vegetables",
            "the cheese is too strong for me",
        ],
        [
            "the striker scored in the last minute",
            "she won the marathon",
            "the team lost the final on penalties",
            "he serves faster than anyone on the tour",
            "the goalkeeper saved two shots",
            "they train in the pool every morning",
            "the referee showed a red card",
            "a new record in the high jump",
        ],
    ];
    BY_TOPIC.iter().enumerate().flat_map(|(t, s)| s.iter().map(move |s| (*s, t))).collect()
}

/// A raw representation of text: how often each letter a-z occurs, `[N, 26]`.
pub fn letter_counts(sentences: &[&str]) -> Tensor {
    let mut counts = vec![0f32; sentences.len() * 26];
    for (i, s) in sentences.iter().enumerate() {
        for c in s.chars().filter(|c| c.is_ascii_alphabetic()) {
            counts[i * 26 + (c.to_ascii_lowercase() as u8 - b'a') as usize] += 1.0;
        }
    }
    Tensor::from_slice(&counts).view([sentences.len() as i64, 26])
}

/// The simplest classifier `h`: each class is the mean of its labelled
/// examples' features, a query takes the class of the most cosine-similar mean.
/// Features `[N, D]`, labels `[N]`; trains on `train`, returns the accuracy on `test`.
pub fn nearest_mean_accuracy(features: &Tensor, labels: &Tensor, train: &[i64], test: &[i64]) -> Result<f64> {
    if train.is_empty() || test.is_empty() {
        return Err(Error::invalid("the train and test indices", format!("{} and {}", train.len(), test.len()), "at least one of each"));
    }
    let unit = |t: &Tensor| {
        let t = t.to_kind(Kind::Float);
        &t / t.norm_scalaropt_dim(2, [1].as_slice(), true).clamp_min(1e-12)
    };
    let f = unit(features);
    let labels = labels.to_kind(Kind::Int64);
    let (train_t, test_t) = (Tensor::from_slice(train), Tensor::from_slice(test));
    let (train_f, train_y) = (f.index_select(0, &train_t), labels.index_select(0, &train_t));
    let classes = i64::try_from(train_y.max()).unwrap_or(0) + 1;
    let means: Vec<Tensor> = (0..classes)
        .map(|c| {
            let rows = train_y.eq(c).nonzero().view([-1]);
            if rows.size()[0] == 0 {
                Tensor::zeros([f.size()[1]], (Kind::Float, f.device()))
            } else {
                train_f.index_select(0, &rows).mean_dim(0, false, Kind::Float)
            }
        })
        .collect();
    let means = unit(&Tensor::stack(&means, 0));
    let predicted = f.index_select(0, &test_t).matmul(&means.tr()).argmax(1, false);
    let right = predicted.eq_tensor(&labels.index_select(0, &test_t)).sum(Kind::Int64).int64_value(&[]);
    Ok(right as f64 / test.len() as f64)
}

/// `images` `[B, C, H, W]` moved `dx` pixels right and `dy` down; what moves in is 0.
pub fn shift(images: &Tensor, dx: i64, dy: i64) -> Tensor {
    let size = images.size();
    let (h, w) = (size[2], size[3]);
    let out = images.zeros_like();
    let (sy, ty, ly) = if dy >= 0 { (0, dy, h - dy) } else { (-dy, 0, h + dy) };
    let (sx, tx, lx) = if dx >= 0 { (0, dx, w - dx) } else { (-dx, 0, w + dx) };
    if ly > 0 && lx > 0 {
        out.narrow(2, ty, ly).narrow(3, tx, lx).copy_(&images.narrow(2, sy, ly).narrow(3, sx, lx));
    }
    out
}

/// One row of the reductions table.
#[derive(Debug, Clone, PartialEq)]
pub struct ReductionRow {
    pub method: Reducer,
    /// Trustworthiness at k = 5.
    pub trustworthiness: f64,
    /// Leave-one-out 5-NN accuracy in 2-D.
    pub knn_accuracy: f64,
    pub seconds: f64,
}

/// The seven reductions of the digits side by side: a table and a figure.
#[derive(Debug)]
pub struct Reductions {
    pub rows: Vec<ReductionRow>,
    pub figure: ScatterGrid,
}

/// Embeds `x` `[N, D]` with every method of [`Reducer::ALL`], timing each and
/// measuring trustworthiness and 5-NN accuracy; `labels` `[N]` colour the points.
pub fn compare_reductions(x: &Tensor, labels: &Tensor, seed: u64) -> Result<Reductions> {
    let names: Vec<String> = (0..10).map(|d| d.to_string()).collect();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let mut figure = ScatterGrid::new(4).label_names(&names);
    figure.panel_size = (260, 260);
    let mut rows = Vec::new();
    for method in Reducer::ALL {
        let start = Instant::now();
        let embedding = method.embed_2d(x, labels, seed)?;
        let seconds = start.elapsed().as_secs_f64();
        rows.push(ReductionRow {
            method,
            trustworthiness: trustworthiness(x, &embedding, 5)?,
            knn_accuracy: leave_one_out_knn_accuracy(&embedding, labels, 5)?,
            seconds,
        });
        let title = if method.supervised() { format!("{method} (uses the labels)") } else { method.to_string() };
        figure = figure.panel(title, &embedding, labels)?;
    }
    Ok(Reductions { rows, figure })
}

impl fmt::Display for Reductions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{:<8} {:>16} {:>14} {:>9}", "method", "trustworthiness", "5-NN accuracy", "seconds")?;
        for r in &self.rows {
            writeln!(f, "{:<8} {:>16.3} {:>14.3} {:>9.2}", r.method.name(), r.trustworthiness, r.knn_accuracy, r.seconds)?;
        }
        Ok(())
    }
}

/// |Spearman correlation| between `a` `[N]` and `b` `[N]`: how well one orders the other.
pub fn rank_correlation(a: &Tensor, b: &Tensor) -> f64 {
    let rank = |t: &Tensor| t.to_kind(Kind::Double).argsort(0, false).argsort(0, false).to_kind(Kind::Double);
    let (ra, rb) = (rank(a), rank(b));
    let (ca, cb) = (&ra - ra.mean(Kind::Double), &rb - rb.mean(Kind::Double));
    let r = (&ca * &cb).sum(Kind::Double) / (ca.square().sum(Kind::Double).sqrt() * cb.square().sum(Kind::Double).sqrt());
    r.double_value(&[]).abs()
}

/// The factors of generated shapes as columns `[N, 5]`: x, y, size, and the
/// hue as a point on the colour circle (cos, sin).
pub fn shape_factor_matrix(shapes: &Shapes) -> Tensor {
    let v: Vec<f32> = shapes
        .factors
        .iter()
        .flat_map(|f| {
            let angle = f.hue * std::f32::consts::TAU;
            [f.x, f.y, f.size, angle.cos(), angle.sin()]
        })
        .collect();
    Tensor::from_slice(&v).view([shapes.factors.len() as i64, 5])
}

/// Names of [`shape_factor_matrix`]'s columns.
pub const SHAPE_FACTORS: [&str; 5] = ["x", "y", "size", "hue (cos)", "hue (sin)"];

/// |Pearson correlation| of every column of `codes` `[N, K]` with every column of `factors` `[N, F]`: `[K, F]`.
pub fn code_factor_correlations(codes: &Tensor, factors: &Tensor) -> Tensor {
    let z = |t: &Tensor| {
        let t = t.to_kind(Kind::Double);
        (&t - t.mean_dim(0, true, Kind::Double)) / t.std_dim(0, false, true).clamp_min(1e-12)
    };
    (z(codes).tr().matmul(&z(factors)) / codes.size()[0] as f64).abs()
}

/// Shapes for the lecture's disentanglement demo: `n` images, seeded.
pub fn lecture_shapes(n: usize) -> Result<Shapes> {
    Shapes::generate(&ShapesConfig { len: n, seed: 2, ..ShapesConfig::default() })
}

/// The first `n` channels of one image's feature maps `[1, C, H, W]` as grey
/// images `[n, 3, H, W]`, each stretched to [0, 1] on its own, for an image grid.
pub fn feature_maps(activation: &Tensor, n: i64) -> Result<Tensor> {
    let size = activation.size();
    if size.len() != 4 || size[0] != 1 {
        return Err(Error::invalid("the activation", format!("shape {size:?}"), "one image's feature maps [1, C, H, W]"));
    }
    let maps = activation.get(0).narrow(0, 0, n.min(size[1])).to_kind(Kind::Float);
    let flat = maps.flatten(1, -1);
    let (low, high) = (flat.amin(1, true), flat.amax(1, true));
    let unit = (&flat - &low) / (high - &low).clamp_min(1e-12);
    Ok(unit.view([-1, 1, size[2], size[3]]).repeat([1, 3, 1, 1]))
}

/// A small convolutional network for the 8x8 digits: two 3x3 convolutions
/// (8 and 16 channels, the second with stride 2) and a linear layer.
#[derive(Debug)]
pub struct DigitCnn {
    conv1: nn::Conv2D,
    conv2: nn::Conv2D,
    fc: nn::Linear,
}

impl DigitCnn {
    pub fn new(p: &nn::Path) -> Self {
        let padded = nn::ConvConfig { padding: 1, ..Default::default() };
        DigitCnn {
            conv1: nn::conv2d(p / "conv1", 1, 8, 3, padded),
            conv2: nn::conv2d(p / "conv2", 8, 16, 3, nn::ConvConfig { stride: 2, ..padded }),
            fc: nn::linear(p / "fc", 16 * 4 * 4, 10, Default::default()),
        }
    }

    /// Named activations for digits `[B, 64]` (values 0-16): "conv1" `[B, 8, 8, 8]`,
    /// "conv2" `[B, 16, 4, 4]` (both after ReLU) and "logits" `[B, 10]`.
    pub fn activations(&self, pixels: &Tensor) -> Vec<(String, Tensor)> {
        let x = (pixels.to_kind(Kind::Float) / 16.0).view([-1, 1, 8, 8]);
        let c1 = x.apply(&self.conv1).relu();
        let c2 = c1.apply(&self.conv2).relu();
        let logits = c2.flatten(1, -1).apply(&self.fc);
        vec![("conv1".into(), c1), ("conv2".into(), c2), ("logits".into(), logits)]
    }
}

/// A trained [`DigitCnn`] with its losses and its accuracy on held-out digits.
#[derive(Debug)]
pub struct DigitCnnRun {
    pub model: DigitCnn,
    /// One loss per full-batch step.
    pub losses: Vec<f64>,
    /// Accuracy on the last fifth of the digits, never trained on.
    pub test_accuracy: f64,
}

/// Trains a [`DigitCnn`] (variables in `vs`) on the first four fifths of
/// `digits` for `steps` full-batch Adam steps (learning rate 1e-2).
pub fn train_digit_cnn(vs: &nn::VarStore, digits: &Digits, steps: usize) -> Result<DigitCnnRun> {
    let n = digits.len() as i64;
    if n < 10 {
        return Err(Error::invalid("digits", n, "at least 10"));
    }
    let model = DigitCnn::new(&vs.root());
    let cut = n * 4 / 5;
    let device = vs.device();
    let (x, y) = (digits.pixels.to_device(device), digits.labels.to_device(device));
    let (train_x, train_y) = (x.narrow(0, 0, cut), y.narrow(0, 0, cut));
    let mut opt = nn::Adam::default().build(vs, 1e-2).map_err(|e| Error::invalid("the optimiser", e, "a VarStore with variables"))?;
    let mut losses = Vec::with_capacity(steps);
    for _ in 0..steps {
        let logits = &model.activations(&train_x)[2].1;
        let loss = logits.cross_entropy_for_logits(&train_y);
        opt.backward_step(&loss);
        losses.push(loss.double_value(&[]));
    }
    let logits = tch::no_grad(|| model.activations(&x.narrow(0, cut, n - cut)).remove(2).1);
    let right = logits.argmax(1, false).eq_tensor(&y.narrow(0, cut, n - cut)).sum(Kind::Int64).int64_value(&[]);
    Ok(DigitCnnRun { model, losses, test_accuracy: right as f64 / (n - cut) as f64 })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn letter_counts_count_letters() {
        let c = letter_counts(&["Abba!", "z"]);
        assert_eq!(c.size(), [2, 26]);
        assert_eq!((c.double_value(&[0, 0]), c.double_value(&[0, 1]), c.double_value(&[1, 25])), (2.0, 2.0, 1.0));
        assert_eq!(c.sum(Kind::Float).double_value(&[]), 5.0);
    }

    #[test]
    fn nearest_mean_by_hand() {
        // Class 0 points right, class 1 points up; the query at 45 degrees + a bit right is class 0.
        let f = Tensor::from_slice(&[1.0f32, 0.0, 0.0, 1.0, 0.9, 0.8, 0.1, 1.0]).view([4, 2]);
        let y = Tensor::from_slice(&[0i64, 1, 0, 0]);
        // Query 2 (0.9, 0.8) is nearer (1, 0) by angle: right; query 3 (0.1, 1.0) is nearer (0, 1): wrong (labelled 0).
        assert_eq!(nearest_mean_accuracy(&f, &y, &[0, 1], &[2, 3]).unwrap(), 0.5);
        assert!(nearest_mean_accuracy(&f, &y, &[], &[2]).is_err());
    }

    #[test]
    fn sentences_are_eight_per_topic_and_distinct() {
        let s = topic_sentences();
        assert_eq!(s.len(), 32);
        for t in 0..4 {
            assert_eq!(s.iter().filter(|(_, topic)| *topic == t).count(), 8);
        }
        let distinct: std::collections::HashSet<_> = s.iter().map(|(s, _)| s).collect();
        assert_eq!(distinct.len(), 32);
    }

    #[test]
    fn shift_moves_pixels_and_fills_with_zero() {
        let x = Tensor::arange(16, (Kind::Float, Device::Cpu)).view([1, 1, 4, 4]);
        let s = shift(&x, 1, 2);
        assert_eq!(s.double_value(&[0, 0, 2, 1]), 0.0 + 0.0 * 4.0);
        assert_eq!(s.double_value(&[0, 0, 3, 3]), x.double_value(&[0, 0, 1, 2]));
        assert_eq!(s.double_value(&[0, 0, 0, 0]), 0.0);
        let back = shift(&shift(&x, -1, -1), 1, 1);
        assert_eq!(back.double_value(&[0, 0, 1, 1]), x.double_value(&[0, 0, 1, 1]));
        assert_eq!(shift(&x, 5, 0).abs().sum(Kind::Float).double_value(&[]), 0.0);
    }

    #[test]
    fn rank_correlation_sees_order_not_scale() {
        let a = Tensor::from_slice(&[1.0, 2.0, 3.0, 4.0]);
        assert!((rank_correlation(&a, &a.exp()) - 1.0).abs() < 1e-12);
        assert!((rank_correlation(&a, &(-&a)) - 1.0).abs() < 1e-12);
        assert!(rank_correlation(&a, &Tensor::from_slice(&[2.0, 4.0, 1.0, 3.0])) < 0.5);
    }

    #[test]
    fn correlations_find_the_factor_a_code_copies() {
        let shapes = lecture_shapes(300).unwrap();
        let factors = shape_factor_matrix(&shapes);
        let code = Tensor::stack(&[factors.select(1, 2) * 3.0 + 1.0, factors.select(1, 0)], 1);
        let c = code_factor_correlations(&code, &factors);
        assert_eq!(c.size(), [2, 5]);
        assert!((c.double_value(&[0, 2]) - 1.0).abs() < 1e-9 && (c.double_value(&[1, 0]) - 1.0).abs() < 1e-9);
        assert!(c.double_value(&[0, 0]) < 0.2);
    }

    #[test]
    fn every_reduction_of_a_few_digits_is_measured() {
        let digits = Digits::from_scikit_learn().expect("make setup installs scikit-learn").first(200);
        let r = compare_reductions(&digits.pixels, &digits.labels, 0).unwrap();
        assert_eq!(r.rows.len(), 7);
        for row in &r.rows {
            assert!(row.trustworthiness > 0.5 && row.knn_accuracy > 0.2, "{row:?}");
        }
        let table = r.to_string();
        assert!(table.contains("t-SNE") && table.contains("trustworthiness"), "{table}");
        assert_eq!(r.figure.panels.len(), 7);
    }
    #[test]
    fn feature_maps_are_stretched_per_channel() {
        let a = Tensor::arange(2 * 4, (Kind::Float, Device::Cpu)).view([1, 2, 2, 2]);
        let maps = feature_maps(&a, 5).unwrap();
        assert_eq!(maps.size(), [2, 3, 2, 2]);
        assert_eq!((maps.double_value(&[1, 0, 0, 0]), maps.double_value(&[1, 2, 1, 1])), (0.0, 1.0));
        assert!(feature_maps(&a.view([2, 1, 2, 2]), 1).is_err());
    }

    #[test]
    fn the_digit_cnn_learns_the_digits() {
        tch::manual_seed(0);
        let digits = Digits::from_scikit_learn().expect("make setup installs scikit-learn");
        let vs = nn::VarStore::new(Device::Cpu);
        let run = train_digit_cnn(&vs, &digits, 60).unwrap();
        assert!(run.losses[59] < run.losses[0] * 0.3, "{:?}", run.losses);
        // Held-out digits, chance 10%.
        assert!(run.test_accuracy > 0.8, "{}", run.test_accuracy);
        let shapes: Vec<Vec<i64>> = run.model.activations(&digits.pixels.narrow(0, 0, 2)).iter().map(|(_, t)| t.size()).collect();
        assert_eq!(shapes, [vec![2, 8, 8, 8], vec![2, 16, 4, 4], vec![2, 10]]);
    }
}
