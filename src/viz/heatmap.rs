//! A matrix as coloured cells with row and column labels (similarities, confusion matrices).
use super::figure::{svg_escape, Display, Figure};
use crate::{Error, Result};
use tch::{Kind, Tensor};

/// A heatmap of a `[R, C]` matrix: blue for the low end of `range`, white in
/// the middle, red for the high end (white to red when `range` starts at 0 or
/// above); each cell's value written in it when it fits.
#[derive(Debug, Clone, PartialEq)]
pub struct Heatmap {
    pub title: String,
    pub values: Vec<Vec<f64>>,
    pub row_labels: Vec<String>,
    pub column_labels: Vec<String>,
    /// The values mapped to the two ends of the colour scale.
    pub range: (f64, f64),
    /// Pixels per cell.
    pub cell: u32,
}

impl Heatmap {
    /// A heatmap of `matrix` `[R, C]` with colours spanning `range`.
    pub fn new(title: impl Into<String>, matrix: &Tensor, range: (f64, f64)) -> Result<Heatmap> {
        let size = matrix.size();
        if size.len() != 2 || size[0] < 1 || size[1] < 1 {
            return Err(Error::invalid("the heatmap's matrix", format!("shape {size:?}"), "[R, C] with R, C >= 1"));
        }
        if !(range.0 < range.1) {
            return Err(Error::invalid("the heatmap's range", format!("{range:?}"), "(low, high) with low < high"));
        }
        let flat = Vec::<f64>::try_from(matrix.to_kind(Kind::Double).contiguous().view([-1])).map_err(|e| Error::invalid("matrix", e, "a float tensor"))?;
        let values = flat.chunks(size[1] as usize).map(|r| r.to_vec()).collect();
        Ok(Heatmap {
            title: title.into(),
            values,
            row_labels: (0..size[0]).map(|i| i.to_string()).collect(),
            column_labels: (0..size[1]).map(|i| i.to_string()).collect(),
            range,
            cell: 34,
        })
    }

    /// Names the rows and the columns (the same names for both when the matrix is square).
    pub fn labels(mut self, rows: &[String], columns: &[String]) -> Self {
        self.row_labels = rows.to_vec();
        self.column_labels = columns.to_vec();
        self
    }

    fn colour(&self, v: f64) -> (u8, u8, u8) {
        let t = ((v - self.range.0) / (self.range.1 - self.range.0)).clamp(0.0, 1.0);
        let (low, high) = ((59.0, 76.0, 192.0), (180.0, 4.0, 38.0));
        let mix = |a: f64, b: f64, s: f64| (a + (b - a) * s).round() as u8;
        if self.range.0 >= 0.0 {
            // A scale that starts at zero (shares, |correlations|): white to red.
            return (mix(255.0, high.0, t), mix(255.0, high.1, t), mix(255.0, high.2, t));
        }
        if t < 0.5 {
            let s = t * 2.0;
            (mix(low.0, 255.0, s), mix(low.1, 255.0, s), mix(low.2, 255.0, s))
        } else {
            let s = (t - 0.5) * 2.0;
            (mix(255.0, high.0, s), mix(255.0, high.1, s), mix(255.0, high.2, s))
        }
    }

    pub fn render(&self) -> Result<Figure> {
        let (rows, cols) = (self.values.len(), self.values[0].len());
        if self.row_labels.len() != rows || self.column_labels.len() != cols {
            return Err(Error::invalid("the heatmap's labels", format!("{} rows, {} columns", self.row_labels.len(), self.column_labels.len()), format!("{rows} and {cols}, one per row and column")));
        }
        let longest = |labels: &[String]| labels.iter().map(|l| l.chars().count()).max().unwrap_or(0) as u32;
        let (left, top) = (longest(&self.row_labels) * 8 + 10, longest(&self.column_labels) * 7 + 40);
        let c = self.cell;
        let title_width = self.title.chars().count() as u32 * 9 + 20;
        let (width, height) = ((left + c * cols as u32 + 10).max(title_width), top + c * rows as u32 + 10);
        let mut svg = format!(
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" font-family=\"sans-serif\">\
             <rect width=\"100%\" height=\"100%\" fill=\"white\"/>\
             <text x=\"{}\" y=\"20\" font-size=\"16\" text-anchor=\"middle\">{}</text>",
            width / 2,
            svg_escape(&self.title)
        );
        for (j, label) in self.column_labels.iter().enumerate() {
            let x = left + c * j as u32 + c / 2;
            svg += &format!("<text transform=\"translate({x},{}) rotate(-60)\" font-size=\"12\">{}</text>", top - 6, svg_escape(label));
        }
        for (i, row) in self.values.iter().enumerate() {
            let y = top + c * i as u32;
            svg += &format!("<text x=\"{}\" y=\"{}\" font-size=\"12\" text-anchor=\"end\">{}</text>", left - 6, y + c / 2 + 4, svg_escape(&self.row_labels[i]));
            for (j, &v) in row.iter().enumerate() {
                let (r, g, b) = self.colour(v);
                let x = left + c * j as u32;
                svg += &format!("<rect x=\"{x}\" y=\"{y}\" width=\"{c}\" height=\"{c}\" fill=\"rgb({r},{g},{b})\"/>");
                if c >= 28 {
                    svg += &format!("<text x=\"{}\" y=\"{}\" font-size=\"10\" text-anchor=\"middle\">{v:.2}</text>", x + c / 2, y + c / 2 + 4);
                }
            }
        }
        svg += "</svg>";
        Ok(Figure::Svg(svg))
    }
}

impl Display for Heatmap {
    fn evcxr_display(&self) {
        super::figure::show(self.render());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_cell_per_entry_coloured_by_value() {
        let m = Tensor::from_slice(&[1.0f64, -1.0, 0.0, 0.5]).view([2, 2]);
        let names: Vec<String> = ["[CLS]", "a<b"].map(String::from).to_vec();
        let h = Heatmap::new("cosine", &m, (-1.0, 1.0)).unwrap().labels(&names, &names);
        let Figure::Svg(svg) = h.render().unwrap() else { panic!("an SVG") };
        assert_eq!(svg.matches("<rect").count(), 5, "background and 4 cells");
        assert!(svg.contains("rgb(180,4,38)") && svg.contains("rgb(59,76,192)") && svg.contains("rgb(255,255,255)"));
        assert!(svg.contains("a&lt;b") && svg.contains(">-1.00<"));
        assert!(Heatmap::new("x", &m, (1.0, 1.0)).is_err());
        let Figure::Svg(svg) = Heatmap::new("a long title that is wider than the cells", &m, (0.0, 1.0)).unwrap().render().unwrap() else { panic!("an SVG") };
        assert!(svg.contains("rgb(255,255,255)") && svg.contains("rgb(180,4,38)") && !svg.contains("rgb(59,76,192)"));
        let width: u32 = svg.split("width=\"").nth(1).and_then(|w| w.split('"').next()).and_then(|w| w.parse().ok()).unwrap();
        assert!(width >= 40 * 9, "{width}");
        assert!(h.clone().labels(&names[..1], &names).render().is_err());
    }
}
