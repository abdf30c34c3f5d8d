//! Classification accuracy of a model over a labelled data set.
use super::encode_all;
use crate::data::ImageSet;
use crate::{Error, Result};
use tch::{Device, Kind};

/// The fraction of `set`'s images whose largest logit is their label.
/// `logits` maps a batch `[B, 3, H, W]` in [0, 1] (on `device`) to `[B, C]`.
pub fn accuracy(
    set: &dyn ImageSet,
    batch_size: usize,
    device: Device,
    logits: impl Fn(&tch::Tensor) -> tch::Tensor,
) -> Result<f64> {
    let labels = set.labels().ok_or_else(|| {
        Error::invalid(
            "the data set of accuracy()",
            "unlabelled",
            "use a labelled split (the STL-10 train or test split, for example)",
        )
    })?;
    let predicted = encode_all(set, batch_size, device, |x| logits(x).argmax(1, false).unsqueeze(1))?;
    let correct = predicted
        .squeeze_dim(1)
        .eq_tensor(&labels)
        .sum(Kind::Int64)
        .int64_value(&[]);
    Ok(correct as f64 / set.len().max(1) as f64)
}

/// The accuracy of always answering the most frequent label: the chance level
/// a classifier of `labels` (`[N]`, int64, non-negative) must beat.
pub fn majority_fraction(labels: &tch::Tensor) -> f64 {
    if labels.numel() == 0 {
        return 0.0;
    }
    let counts = labels.bincount::<tch::Tensor>(None, 0);
    counts.max().double_value(&[]) / labels.size()[0] as f64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::TensorImages;
    use tch::Tensor;

    #[test]
    fn counts_by_hand() {
        // A "classifier" that always says class 0 scores the share of label 0.
        let images = Tensor::zeros([6, 3, 2, 2], (Kind::Uint8, Device::Cpu));
        let labels = Tensor::from_slice(&[0i64, 1, 0, 2, 0, 1]);
        let set = TensorImages::new(images, Some(labels), vec![]).unwrap();
        let always_zero = |x: &Tensor| {
            let b = x.size()[0];
            Tensor::cat(&[Tensor::ones([b, 1], (Kind::Float, Device::Cpu)), Tensor::zeros([b, 2], (Kind::Float, Device::Cpu))], 1)
        };
        let acc = accuracy(&set, 4, Device::Cpu, always_zero).unwrap();
        assert!((acc - 3.0 / 6.0).abs() < 1e-12, "{acc}");
        let unlabelled = TensorImages::new(Tensor::zeros([2, 3, 2, 2], (Kind::Uint8, Device::Cpu)), None, vec![]).unwrap();
        let err = accuracy(&unlabelled, 4, Device::Cpu, always_zero).unwrap_err().to_string();
        assert!(err.contains("labelled split"), "{err}");
    }

    #[test]
    fn majority_fraction_counts_the_most_common_label() {
        let labels = Tensor::from_slice(&[2i64, 0, 2, 1, 2, 0]);
        assert_eq!(majority_fraction(&labels), 0.5);
        assert_eq!(majority_fraction(&Tensor::from_slice::<i64>(&[])), 0.0);
    }
}
