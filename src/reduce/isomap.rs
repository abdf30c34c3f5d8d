//! Isomap: classical MDS on geodesic distances, the shortest paths through a
//! k-nearest-neighbour graph.
use super::{as_matrix, classical_mds, nearest_neighbours, rows_of};
use crate::{Error, Result};
use petgraph::graph::{NodeIndex, UnGraph};
use tch::{Kind, Tensor};

/// Settings of [`isomap`].
#[derive(Debug, Clone, PartialEq)]
pub struct IsomapConfig {
    /// Neighbours per point in the graph.
    pub neighbours: i64,
    pub components: i64,
}

impl Default for IsomapConfig {
    /// scikit-learn's: 5 neighbours, 2 dimensions.
    fn default() -> Self {
        IsomapConfig { neighbours: 5, components: 2 }
    }
}

/// The geodesic distances `[N, N]` of `x` `[N, D]`: shortest paths in the
/// undirected graph joining every point to its `neighbours` nearest (Dijkstra,
/// from petgraph). When that graph falls apart into pieces, each two pieces are
/// joined by their closest pair of points, as scikit-learn does.
pub fn geodesic_distances(x: &Tensor, neighbours: i64) -> Result<Tensor> {
    let x = as_matrix(x, "the data for Isomap", 3)?;
    let n = x.size()[0];
    if neighbours < 1 || neighbours >= n {
        return Err(Error::invalid("Isomap neighbours", neighbours, format!("between 1 and N - 1 = {}", n - 1)));
    }
    let (near, dist) = nearest_neighbours(&x, neighbours);
    let (near, dist) = (rows_of(&near.to_kind(Kind::Double)), rows_of(&dist));
    let mut graph = UnGraph::<(), f64>::with_capacity(n as usize, (n * neighbours) as usize);
    let nodes: Vec<NodeIndex> = (0..n).map(|_| graph.add_node(())).collect();
    for (i, (js, ds)) in near.iter().zip(&dist).enumerate() {
        for (j, d) in js.iter().zip(ds) {
            graph.update_edge(nodes[i], nodes[*j as usize], *d);
        }
    }
    join_pieces(&mut graph, &x);
    let mut out = vec![0f64; (n * n) as usize];
    for (i, &start) in nodes.iter().enumerate() {
        for (node, d) in petgraph::algo::dijkstra(&graph, start, None, |e| *e.weight()) {
            out[i * n as usize + node.index()] = d;
        }
    }
    Ok(Tensor::from_slice(&out).view([n, n]))
}

/// Adds, for every two connected pieces of `graph`, an edge between their closest points.
fn join_pieces(graph: &mut UnGraph<(), f64>, x: &Tensor) {
    let mut pieces = petgraph::unionfind::UnionFind::<usize>::new(graph.node_count());
    for edge in graph.raw_edges() {
        pieces.union(edge.source().index(), edge.target().index());
    }
    let labels = pieces.into_labeling();
    let mut members: Vec<Vec<i64>> = Vec::new();
    let mut seen: Vec<usize> = Vec::new();
    for (point, label) in labels.iter().enumerate() {
        match seen.iter().position(|l| l == label) {
            Some(at) => members[at].push(point as i64),
            None => {
                seen.push(*label);
                members.push(vec![point as i64]);
            }
        }
    }
    for a in 0..members.len() {
        for b in 0..a {
            let (pa, pb) = (Tensor::from_slice(&members[a]), Tensor::from_slice(&members[b]));
            let d = super::squared_distances(&x.index_select(0, &pa), &x.index_select(0, &pb));
            let flat = d.argmin(None, false).int64_value(&[]);
            let cols = members[b].len() as i64;
            let (i, j) = (members[a][(flat / cols) as usize], members[b][(flat % cols) as usize]);
            let length = d.view([-1]).double_value(&[flat]).sqrt();
            graph.update_edge(NodeIndex::new(i as usize), NodeIndex::new(j as usize), length);
        }
    }
}

/// Isomap of `x` `[N, D]`: `[N, k]` (scikit-learn's `Isomap` up to sign).
pub fn isomap(x: &Tensor, config: &IsomapConfig) -> Result<Tensor> {
    classical_mds(&geodesic_distances(x, config.neighbours)?, config.components)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unrolls_a_spiral_that_pca_cannot() {
        // Points along an Archimedean spiral: geodesic order is the arc length.
        let t: Vec<f64> = (0..200).map(|i| 1.0 + 3.0 * std::f64::consts::PI * i as f64 / 199.0).collect();
        let xy: Vec<f64> = t.iter().flat_map(|&t| [t * t.cos(), t * t.sin()]).collect();
        let x = Tensor::from_slice(&xy).view([200, 2]);
        let first = isomap(&x, &IsomapConfig { neighbours: 6, components: 1 }).unwrap();
        let first = Vec::<f64>::try_from(first.view([-1])).unwrap();
        // Monotone along the spiral: Isomap's single coordinate orders the points as t does.
        let rising = first.windows(2).filter(|w| w[1] > w[0]).count();
        assert!(rising == 199 || rising == 0, "{rising} of 199 steps in one direction");
    }

    #[test]
    fn geodesics_on_a_path_add_up_and_pieces_are_joined_at_their_closest_points() {
        let line = Tensor::from_slice(&[0.0, 1.0, 3.0, 6.0]).view([4, 1]);
        let d = geodesic_distances(&line, 1).unwrap();
        assert_eq!(d.double_value(&[0, 3]), 6.0);
        // Two pairs far apart: one bridge of length 99 between 1 and 100.
        let split = Tensor::from_slice(&[0.0, 1.0, 100.0, 101.0]).view([4, 1]);
        let d = geodesic_distances(&split, 1).unwrap();
        assert_eq!(d.double_value(&[0, 3]), 101.0);
        assert_eq!(d.double_value(&[1, 2]), 99.0);
    }
}
