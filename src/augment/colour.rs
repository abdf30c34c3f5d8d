//! Colour augmentations on batches `[B, 3, H, W]` in [0, 1], per image factors.
use tch::{Kind, Tensor};

/// Luma `[B, 1, H, W]` (ITU-R 601: 0.299 R + 0.587 G + 0.114 B).
pub fn grayscale(x: &Tensor) -> Tensor {
    let w = Tensor::from_slice(&[0.299f32, 0.587, 0.114])
        .to_device(x.device())
        .view([1, 3, 1, 1]);
    (x * w).sum_dim_intlist([1].as_slice(), true, Kind::Float)
}

fn per_image(factors: &[f64], x: &Tensor) -> Tensor {
    let f: Vec<f32> = factors.iter().map(|&v| v as f32).collect();
    Tensor::from_slice(&f)
        .to_device(x.device())
        .view([-1, 1, 1, 1])
}

/// `f * a + (1 - f) * b`, clamped to [0, 1].
fn blend(a: &Tensor, b: &Tensor, f: &Tensor) -> Tensor {
    let mixed: Tensor = a * f + b * (1.0 - f);
    mixed.clamp(0.0, 1.0)
}

/// Multiplies each image by its factor.
pub fn adjust_brightness(x: &Tensor, factors: &[f64]) -> Tensor {
    blend(x, &x.zeros_like(), &per_image(factors, x))
}

/// Moves each image towards (factor < 1) or away from its mean grey.
pub fn adjust_contrast(x: &Tensor, factors: &[f64]) -> Tensor {
    let mean = grayscale(x).mean_dim([1, 2, 3].as_slice(), true, Kind::Float);
    blend(x, &mean, &per_image(factors, x))
}

/// Moves each image towards its greyscale version (factor 0) or beyond its colours.
pub fn adjust_saturation(x: &Tensor, factors: &[f64]) -> Tensor {
    blend(x, &grayscale(x), &per_image(factors, x))
}

/// Turns each image's hues by `shifts` (fractions of the colour wheel, in [-0.5, 0.5]).
pub fn adjust_hue(x: &Tensor, shifts: &[f64]) -> Tensor {
    let (h, s, v) = rgb_to_hsv(x);
    let h = (h + per_image(shifts, x)).remainder(1.0);
    hsv_to_rgb(&h, &s, &v)
}

/// HSV planes `[B, 1, H, W]` each, all in [0, 1].
pub fn rgb_to_hsv(x: &Tensor) -> (Tensor, Tensor, Tensor) {
    let (r, g, b) = (x.narrow(1, 0, 1), x.narrow(1, 1, 1), x.narrow(1, 2, 1));
    let maxc = r.maximum(&g).maximum(&b);
    let minc = r.minimum(&g).minimum(&b);
    let delta = &maxc - &minc;
    let safe = delta.clamp_min(1e-12);
    let s = &delta / maxc.clamp_min(1e-12);
    let hr = ((&g - &b) / &safe).remainder(6.0);
    let hg = (&b - &r) / &safe + 2.0;
    let hb = (&r - &g) / &safe + 4.0;
    let h = hr.where_self(
        &maxc.eq_tensor(&r),
        &hg.where_self(&maxc.eq_tensor(&g), &hb),
    );
    let h = (h / 6.0).where_self(&delta.gt(0.0), &delta.zeros_like());
    (h, s, maxc)
}

/// RGB `[B, 3, H, W]` from HSV planes.
pub fn hsv_to_rgb(h: &Tensor, s: &Tensor, v: &Tensor) -> Tensor {
    let h6 = h * 6.0;
    let i = h6.floor();
    let f = &h6 - &i;
    let i = i.remainder(6.0);
    let p = v * (1.0 - s);
    let q = v * (1.0 - s * &f);
    let t = v * (1.0 - s * (1.0 - &f));
    let pick = |cases: [&Tensor; 6]| {
        let mut out = cases[5].shallow_clone();
        for k in (0..5).rev() {
            out = cases[k].where_self(&i.eq(k as f64), &out);
        }
        out
    };
    let r = pick([v, &q, &p, &p, &t, v]);
    let g = pick([&t, v, v, &q, &p, &p]);
    let b = pick([&p, &p, &t, v, v, &q]);
    Tensor::cat(&[r, g, b], 1).clamp(0.0, 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::Device;

    fn pixel(rgb: [f32; 3]) -> Tensor {
        Tensor::from_slice(&rgb).view([1, 3, 1, 1])
    }

    fn rgb_of(x: &Tensor) -> Vec<f32> {
        Vec::<f32>::try_from(x.flatten(0, -1)).unwrap()
    }

    #[test]
    fn hue_turns_red_to_green_and_blue() {
        let red = pixel([1.0, 0.0, 0.0]);
        let green = rgb_of(&adjust_hue(&red, &[1.0 / 3.0]));
        let blue = rgb_of(&adjust_hue(&red, &[-1.0 / 3.0]));
        for (got, want) in [(green, [0.0, 1.0, 0.0]), (blue, [0.0, 0.0, 1.0])] {
            assert!(
                got.iter().zip(want).all(|(g, w)| (g - w).abs() < 1e-5),
                "{got:?}"
            );
        }
    }

    #[test]
    fn hsv_round_trip_on_random_colours() {
        let x = Tensor::rand([4, 3, 5, 5], (Kind::Float, Device::Cpu));
        let (h, s, v) = rgb_to_hsv(&x);
        assert!(hsv_to_rgb(&h, &s, &v).allclose(&x, 1e-5, 1e-5, false));
    }

    #[test]
    fn brightness_contrast_saturation_by_hand() {
        let x = pixel([0.5, 0.25, 0.0]);
        assert_eq!(rgb_of(&adjust_brightness(&x, &[2.0])), vec![1.0, 0.5, 0.0]);
        let grey = 0.299 * 0.5 + 0.587 * 0.25;
        let sat0 = rgb_of(&adjust_saturation(&x, &[0.0]));
        assert!(sat0.iter().all(|v| (v - grey).abs() < 1e-6));
        let c0 = rgb_of(&adjust_contrast(&x, &[0.0]));
        assert!(
            c0.iter().all(|v| (v - grey).abs() < 1e-6),
            "a one-pixel image's mean grey is its grey"
        );
    }
}
