//! Geometric augmentations as 3x3 inverse maps, applied by one nearest-neighbour
//! resampling with black padding.
//!
//! Coordinates are normalised to the *input* image: [-1, 1] spans it (pixel
//! centres at `(2i + 1) / S - 1`). Each map sends a point of the output image to
//! the point of the input it is read from; a point outside [-1, 1] reads black.
use tch::{Kind, Tensor};

/// A 3x3 matrix acting on homogeneous points `(x, y, 1)`.
pub type Mat3 = [[f64; 3]; 3];

pub const IDENTITY: Mat3 = [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]];

pub fn mul(a: &Mat3, b: &Mat3) -> Mat3 {
    let mut c = [[0.0; 3]; 3];
    for i in 0..3 {
        for j in 0..3 {
            c[i][j] = (0..3).map(|k| a[i][k] * b[k][j]).sum();
        }
    }
    c
}

pub fn rotation(radians: f64) -> Mat3 {
    let (s, c) = radians.sin_cos();
    [[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]]
}

pub fn scale_translate(sx: f64, sy: f64, tx: f64, ty: f64) -> Mat3 {
    [[sx, 0.0, tx], [0.0, sy, ty], [0.0, 0.0, 1.0]]
}

/// Shear by angles (radians) along x, then along y, as torchvision composes
/// them; the determinant is 1, so the map is invertible for any angles.
pub fn shear(ax: f64, ay: f64) -> Mat3 {
    let along_x = [[1.0, ax.tan(), 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]];
    let along_y = [[1.0, 0.0, 0.0], [ay.tan(), 1.0, 0.0], [0.0, 0.0, 1.0]];
    mul(&along_x, &along_y)
}

/// Inverse of an affine or projective map (general 3x3 inverse).
pub fn invert(m: &Mat3) -> Mat3 {
    let det = m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1])
        - m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0])
        + m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0]);
    let cof =
        |r0: usize, r1: usize, c0: usize, c1: usize| m[r0][c0] * m[r1][c1] - m[r0][c1] * m[r1][c0];
    let adj = [
        [cof(1, 2, 1, 2), -cof(0, 2, 1, 2), cof(0, 1, 1, 2)],
        [-cof(1, 2, 0, 2), cof(0, 2, 0, 2), -cof(0, 1, 0, 2)],
        [cof(1, 2, 0, 1), -cof(0, 2, 0, 1), cof(0, 1, 0, 1)],
    ];
    adj.map(|row| row.map(|v| v / det))
}

/// The projective map sending each `from[i]` to `to[i]` (four point pairs).
pub fn homography(from: [(f64, f64); 4], to: [(f64, f64); 4]) -> Mat3 {
    // Solve the 8x8 system for h (h33 = 1) by Gaussian elimination with pivoting.
    let mut a = [[0.0f64; 9]; 8];
    for i in 0..4 {
        let ((x, y), (u, v)) = (from[i], to[i]);
        a[2 * i] = [x, y, 1.0, 0.0, 0.0, 0.0, -u * x, -u * y, u];
        a[2 * i + 1] = [0.0, 0.0, 0.0, x, y, 1.0, -v * x, -v * y, v];
    }
    for col in 0..8 {
        let pivot = (col..8)
            .max_by(|&i, &j| a[i][col].abs().total_cmp(&a[j][col].abs()))
            .expect("rows");
        a.swap(col, pivot);
        let pivot_row = a[col];
        for (row, values) in a.iter_mut().enumerate() {
            if row != col {
                let f = values[col] / pivot_row[col];
                for (v, p) in values[col..].iter_mut().zip(&pivot_row[col..]) {
                    *v -= f * p;
                }
            }
        }
    }
    let h: Vec<f64> = (0..8).map(|i| a[i][8] / a[i][i]).collect();
    [[h[0], h[1], h[2]], [h[3], h[4], h[5]], [h[6], h[7], 1.0]]
}

/// Resamples each image `[B, C, S, S]` through its inverse map (nearest
/// neighbour, black outside). `maps.len()` must be B.
pub fn warp(images: &Tensor, maps: &[Mat3]) -> Tensor {
    let size = images.size();
    let (b, h, w) = (size[0], size[2], size[3]);
    assert_eq!(maps.len() as i64, b, "one map per image");
    let device = images.device();
    let xs = Tensor::arange(w, (Kind::Float, device)).g_mul_scalar(2.0 / w as f64)
        + (1.0 / w as f64 - 1.0);
    let ys = Tensor::arange(h, (Kind::Float, device)).g_mul_scalar(2.0 / h as f64)
        + (1.0 / h as f64 - 1.0);
    let gx = xs.view([1, w]).expand([h, w], false).reshape([-1]);
    let gy = ys.view([h, 1]).expand([h, w], false).reshape([-1]);
    let base = Tensor::stack(&[gx, gy, Tensor::ones([h * w], (Kind::Float, device))], 0); // [3, HW]
    let flat: Vec<f32> = maps
        .iter()
        .flat_map(|m| m.iter().flatten().map(|&v| v as f32))
        .collect();
    let m = Tensor::from_slice(&flat).view([b, 3, 3]).to_device(device);
    let p = m.matmul(&base); // [B, 3, HW]
    let z = p.narrow(1, 2, 1);
    let xy = p.narrow(1, 0, 2) / z; // [B, 2, HW]
    let grid = xy.permute([0, 2, 1]).reshape([b, h, w, 2]);
    let input = images.to_kind(Kind::Float);
    // interpolation 1 = nearest, padding 0 = zeros, align_corners = false.
    input
        .grid_sampler(&grid, 1, 0, false)
        .to_kind(images.kind())
}

/// The map of a square crop box given in normalised input coordinates:
/// output [-1, 1] covers `[cx - hw, cx + hw] x [cy - hh, cy + hh]`.
pub fn crop_box(cx: f64, cy: f64, hw: f64, hh: f64) -> Mat3 {
    scale_translate(hw, hh, cx, cy)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::Device;

    fn image() -> Tensor {
        Tensor::arange(2 * 3 * 4 * 4, (Kind::Float, Device::Cpu)).reshape([2, 3, 4, 4])
    }

    #[test]
    fn identity_map_returns_the_input() {
        let x = image();
        assert!(warp(&x, &[IDENTITY, IDENTITY]).equal(&x));
    }

    #[test]
    fn quarter_turn_matches_rot90() {
        let x = image();
        let q = rotation(std::f64::consts::FRAC_PI_2);
        let y = warp(&x, &[q, q]);
        // Output (x, y) reads input (-y, x): the image turned by a quarter, as rot90 computes it.
        let expected = x.rot90(1, [2, 3]);
        let alt = x.rot90(-1, [2, 3]);
        assert!(y.equal(&expected) || y.equal(&alt));
        assert!(!y.equal(&x));
    }

    #[test]
    fn zooming_out_pads_with_black() {
        let x = Tensor::ones([1, 1, 8, 8], (Kind::Float, Device::Cpu));
        let y = warp(&x, &[scale_translate(2.0, 2.0, 0.0, 0.0)]);
        // The input occupies the central 4x4 of the output.
        assert_eq!(y.sum(Kind::Float).double_value(&[]), 16.0);
        assert_eq!(y.double_value(&[0, 0, 0, 0]), 0.0);
        assert_eq!(y.double_value(&[0, 0, 3, 3]), 1.0);
    }

    #[test]
    fn homography_maps_the_four_points_and_inverts() {
        let from = [(-1.0, -1.0), (1.0, -1.0), (1.0, 1.0), (-1.0, 1.0)];
        let to = [(-0.8, -0.9), (0.7, -1.0), (1.0, 0.6), (-0.9, 0.9)];
        let h = homography(from, to);
        for (p, q) in from.iter().zip(&to) {
            let r = [
                h[0][0] * p.0 + h[0][1] * p.1 + h[0][2],
                h[1][0] * p.0 + h[1][1] * p.1 + h[1][2],
                h[2][0] * p.0 + h[2][1] * p.1 + h[2][2],
            ];
            assert!((r[0] / r[2] - q.0).abs() < 1e-9 && (r[1] / r[2] - q.1).abs() < 1e-9);
        }
        let round = mul(&h, &invert(&h));
        for i in 0..3 {
            for j in 0..3 {
                let want = if i == j { round[2][2] } else { 0.0 };
                assert!((round[i][j] - want).abs() < 1e-9);
            }
        }
    }
}
