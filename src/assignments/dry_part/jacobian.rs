//! Question 5: why `backward` wants a scalar. Reverse mode computes a
//! vector-Jacobian product `v^T J` in one pass; for a scalar loss `v = 1` and
//! that product is the gradient. For a vector output libtorch would need `v`,
//! and the whole Jacobian takes one pass per output (one row each).
use tch::{Kind, Tensor};

/// A function from a vector `[n]` to a vector `[m]`.
pub type VectorFn = fn(&Tensor) -> Tensor;

/// The student's Jacobian: `(f, x [n]) -> J [m, n]`, `J[i][j] = d f_i / d x_j`.
pub type JacobianFn = fn(VectorFn, &Tensor) -> Tensor;

/// What libtorch says when `backward` is called on `f(x)`, a non-scalar
/// (its first line), or `None` if it accepted it (a one-element output).
pub fn non_scalar_backward_error(f: VectorFn, x: &Tensor) -> Option<String> {
    let leaf = x.detach().set_requires_grad(true);
    match f(&leaf).f_backward() {
        Ok(()) => None,
        Err(e) => Some(e.to_string().lines().next().unwrap_or_default().to_string()),
    }
}

/// `v^T J` (`[n]`) in one reverse pass: the gradient of the scalar `v . f(x)`.
/// (tch's `run_backward` takes no `grad_outputs`, so the weights go into the scalar.)
pub fn vector_jacobian_product(f: VectorFn, x: &Tensor, v: &Tensor) -> Tensor {
    let leaf = x.detach().set_requires_grad(true);
    let weighted = (f(&leaf) * v).sum(Kind::Double);
    Tensor::run_backward(&[&weighted], &[&leaf], false, false).pop().expect("one input, one gradient")
}

/// The Jacobian by central differences in double precision, `[m, n]`: an
/// independent check that uses no automatic differentiation.
pub fn jacobian_by_finite_differences(f: VectorFn, x: &Tensor, eps: f64) -> Tensor {
    let x = x.detach().to_kind(Kind::Double);
    let n = x.size()[0];
    let columns: Vec<Tensor> = (0..n)
        .map(|j| {
            let step = Tensor::zeros_like(&x).index_fill(0, &Tensor::from_slice(&[j]), eps);
            (f(&(&x + &step)) - f(&(&x - &step))) / (2.0 * eps)
        })
        .collect();
    Tensor::stack(&columns, 1)
}

/// The reference answer to the notebook's FIXME: one reverse pass per output.
#[cfg(feature = "solutions")]
pub fn jacobian_by_rows(f: VectorFn, x: &Tensor) -> Tensor {
    let leaf = x.detach().set_requires_grad(true);
    let y = f(&leaf);
    let rows: Vec<Tensor> = (0..y.size()[0]).map(|i| Tensor::run_backward(&[&y.get(i)], &[&leaf], true, false).pop().expect("one gradient")).collect();
    Tensor::stack(&rows, 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// f(x) = (x0 * x1, sin x2, x0 + 2 x2^2): its Jacobian by hand below.
    fn f(x: &Tensor) -> Tensor {
        Tensor::stack(&[x.get(0) * x.get(1), x.get(2).sin(), x.get(0) + x.get(2).square() * 2.0], 0)
    }

    fn by_hand(x: [f64; 3]) -> Tensor {
        Tensor::from_slice(&[x[1], x[0], 0.0, 0.0, 0.0, x[2].cos(), 1.0, 0.0, 4.0 * x[2]]).view([3, 3])
    }

    #[test]
    fn libtorch_refuses_a_vector_and_accepts_a_scalar() {
        let x = Tensor::from_slice(&[1.0f64, 2.0, 3.0]);
        let message = non_scalar_backward_error(f, &x).expect("a vector output has no implicit gradient");
        assert!(message.contains("scalar"), "{message}");
        fn total(x: &Tensor) -> Tensor {
            x.square().sum(Kind::Double)
        }
        assert_eq!(non_scalar_backward_error(total, &x), None);
    }

    #[test]
    fn vjp_and_finite_differences_agree_with_the_jacobian_by_hand() {
        let point = [0.5, -1.5, 0.7];
        let x = Tensor::from_slice(&point);
        let j = by_hand(point);
        let numeric = jacobian_by_finite_differences(f, &x, 1e-6);
        assert!(numeric.allclose(&j, 1e-6, 1e-6, false), "{numeric} vs {j}");
        let v = Tensor::from_slice(&[1.0f64, -2.0, 0.5]);
        let vjp = vector_jacobian_product(f, &x, &v);
        assert!(vjp.allclose(&v.unsqueeze(0).matmul(&j).squeeze_dim(0), 1e-9, 1e-9, false));
    }

    #[cfg(feature = "solutions")]
    #[test]
    fn the_reference_builds_the_jacobian_row_by_row() {
        let point = [0.3, 2.0, -1.1];
        let j = jacobian_by_rows(f, &Tensor::from_slice(&point));
        assert!(j.allclose(&by_hand(point), 1e-9, 1e-9, false));
    }
}
