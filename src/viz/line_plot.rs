//! Line charts (loss curves, accuracy against a parameter) as SVG.
use super::figure::{Display, Figure};
use crate::{Error, Result};
use plotters::coord::ranged1d::{Ranged, ValueFormatter};
use plotters::prelude::*;

/// One named line: `y[i]` plotted at `x[i]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    pub name: String,
    pub x: Vec<f64>,
    pub y: Vec<f64>,
    /// Half-lengths of vertical error bars at each point (empty: none).
    pub err: Vec<f64>,
}

/// A chart of one or more lines, drawn with plotters into SVG.
///
/// ```
/// use replearn::viz::LinePlot;
/// let figure = LinePlot::new("loss").y_label("MSE").line("train", vec![0.3, 0.2, 0.1]).render()?;
/// assert_eq!(figure.mime_type(), "image/svg+xml");
/// # Ok::<(), replearn::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct LinePlot {
    pub title: String,
    pub x_label: String,
    pub y_label: String,
    pub log_y: bool,
    pub width: u32,
    pub height: u32,
    pub series: Vec<Series>,
}

impl LinePlot {
    /// An empty chart with a title.
    pub fn new(title: impl Into<String>) -> Self {
        LinePlot {
            title: title.into(),
            x_label: "step".into(),
            y_label: String::new(),
            log_y: false,
            width: 640,
            height: 360,
            series: Vec::new(),
        }
    }

    pub fn x_label(mut self, label: impl Into<String>) -> Self {
        self.x_label = label.into();
        self
    }

    pub fn y_label(mut self, label: impl Into<String>) -> Self {
        self.y_label = label.into();
        self
    }

    /// Logarithmic y axis (all values must be positive).
    pub fn log_y(mut self, log: bool) -> Self {
        self.log_y = log;
        self
    }

    /// Adds a line with x = 0, 1, 2, ...
    pub fn line(self, name: impl Into<String>, y: Vec<f64>) -> Self {
        let x = (0..y.len()).map(|i| i as f64).collect();
        self.xy(name, x, y)
    }

    /// Adds a line with explicit x values.
    pub fn xy(mut self, name: impl Into<String>, x: Vec<f64>, y: Vec<f64>) -> Self {
        self.series.push(Series {
            name: name.into(),
            x,
            y,
            err: Vec::new(),
        });
        self
    }

    /// Adds a line with a vertical error bar `y[i] - err[i] ..= y[i] + err[i]` at each point.
    pub fn xy_err(mut self, name: impl Into<String>, x: Vec<f64>, y: Vec<f64>, err: Vec<f64>) -> Self {
        self.series.push(Series { name: name.into(), x, y, err });
        self
    }

    /// Draws the chart.
    pub fn render(&self) -> Result<Figure> {
        let points: Vec<(f64, f64)> = self
            .series
            .iter()
            .flat_map(|s| {
                let ends = s.err.iter().zip(&s.x).zip(&s.y).flat_map(|((e, &x), &y)| [(x, y - e), (x, y + e)]);
                s.x.iter().copied().zip(s.y.iter().copied()).chain(ends)
            })
            .filter(|(x, y)| x.is_finite() && y.is_finite())
            .collect();
        for s in &self.series {
            if !s.err.is_empty() && s.err.len() != s.y.len() {
                return Err(Error::invalid(
                    format!("the error bars of line '{}'", s.name),
                    s.err.len(),
                    format!("one per y value ({})", s.y.len()),
                ));
            }
            if s.x.len() != s.y.len() {
                return Err(Error::invalid(
                    format!("the x values of line '{}'", s.name),
                    s.x.len(),
                    format!("one per y value ({})", s.y.len()),
                ));
            }
        }
        if points.is_empty() {
            return Err(Error::Plot(format!(
                "chart '{}' has no finite points to draw",
                self.title
            )));
        }
        if self.log_y && points.iter().any(|&(_, y)| y <= 0.0) {
            return Err(Error::Plot(format!(
                "chart '{}': a log y axis needs positive values",
                self.title
            )));
        }
        let (x0, x1) = padded_range(points.iter().map(|p| p.0));
        let (y0, y1) = if self.log_y {
            // Padding in ratios: an additive pad would reach zero and ask for hundreds of decades.
            let (lo, hi) = points.iter().fold((f64::INFINITY, 0f64), |(lo, hi), p| (lo.min(p.1), hi.max(p.1)));
            (lo / 1.5, hi * 1.5)
        } else {
            padded_range(points.iter().map(|p| p.1))
        };
        let mut svg = String::new();
        {
            let root =
                SVGBackend::with_string(&mut svg, (self.width, self.height)).into_drawing_area();
            root.fill(&WHITE).map_err(plot_err)?;
            let mut builder = ChartBuilder::on(&root);
            builder
                .caption(&self.title, ("sans-serif", 20))
                .margin(12)
                .x_label_area_size(36)
                .y_label_area_size(56);
            if self.log_y {
                let chart = builder
                    .build_cartesian_2d(x0..x1, (y0..y1).log_scale())
                    .map_err(plot_err)?;
                self.draw_on(chart)?;
            } else {
                self.draw_on(
                    builder
                        .build_cartesian_2d(x0..x1, y0..y1)
                        .map_err(plot_err)?,
                )?;
            }
            root.present().map_err(plot_err)?;
        }
        Ok(Figure::Svg(svg))
    }

    /// Axes, labels, lines and legend, on linear or logarithmic coordinates.
    fn draw_on<'a, DB, X, Y>(
        &self,
        mut chart: ChartContext<'a, DB, Cartesian2d<X, Y>>,
    ) -> Result<()>
    where
        DB: DrawingBackend + 'a,
        X: Ranged<ValueType = f64> + ValueFormatter<f64>,
        Y: Ranged<ValueType = f64> + ValueFormatter<f64>,
    {
        chart
            .configure_mesh()
            .x_desc(&self.x_label)
            .y_desc(&self.y_label)
            .draw()
            .map_err(plot_err)?;
        for (i, s) in self.series.iter().enumerate() {
            let color = Palette99::pick(i).to_rgba();
            let pts: Vec<(f64, f64)> =
                s.x.iter()
                    .copied()
                    .zip(s.y.iter().copied())
                    .filter(|(x, y)| x.is_finite() && y.is_finite())
                    .collect();
            chart
                .draw_series(LineSeries::new(pts, color.stroke_width(2)))
                .map_err(plot_err)?
                .label(s.name.clone())
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 18, y)], color.stroke_width(2))
                });
            let bars = s.x.iter().zip(&s.y).zip(&s.err).filter(|((x, y), e)| x.is_finite() && y.is_finite() && e.is_finite());
            chart
                .draw_series(bars.map(|((&x, &y), &e)| PathElement::new(vec![(x, y - e), (x, y + e)], color.stroke_width(1))))
                .map_err(plot_err)?;
        }
        if self.series.len() > 1 || self.series.iter().any(|s| !s.name.is_empty()) {
            chart
                .configure_series_labels()
                .background_style(WHITE.mix(0.8))
                .border_style(BLACK)
                .draw()
                .map_err(plot_err)?;
        }
        Ok(())
    }
}

impl Display for LinePlot {
    fn evcxr_display(&self) {
        super::figure::show(self.render());
    }
}

fn padded_range(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let (lo, hi) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
        (lo.min(v), hi.max(v))
    });
    if lo == hi {
        (lo - 0.5, hi + 0.5)
    } else {
        let pad = (hi - lo) * 0.03;
        (lo - pad, hi + pad)
    }
}

pub(crate) fn plot_err<E: std::fmt::Display>(e: E) -> Error {
    Error::Plot(e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn svg_has_title_labels_and_one_path_per_line() {
        let fig = LinePlot::new("Training loss")
            .y_label("MSE")
            .line("train", vec![1.0, 0.5, 0.25])
            .line("val", vec![1.2, 0.7, 0.4])
            .render()
            .unwrap();
        let Figure::Svg(svg) = fig else {
            panic!("expected SVG")
        };
        assert!(svg.starts_with("<svg"));
        for text in ["Training loss", "MSE", "train", "val"] {
            assert!(svg.contains(text), "missing {text}");
        }
        assert!(svg.matches("<polyline").count() >= 2);
    }

    #[test]
    fn error_bars_are_drawn_and_fit_in_the_axes() {
        let figure = LinePlot::new("accuracy")
            .xy_err("test", vec![1.0, 2.0], vec![0.5, 0.6], vec![0.05, 0.3])
            .render()
            .unwrap();
        let Figure::Svg(svg) = figure else { panic!("an SVG") };
        // One polyline for the line and one per error bar.
        assert!(svg.matches("<polyline").count() >= 3, "{svg}");
        // The y axis reaches the top of the second bar (0.9).
        assert!(svg.contains("0.9"), "the axis should cover 0.6 + 0.3");
        assert!(LinePlot::new("bad").xy_err("a", vec![1.0], vec![1.0], vec![]).render().is_ok());
        assert!(LinePlot::new("bad").xy_err("a", vec![1.0], vec![1.0], vec![0.1, 0.2]).render().is_err());
    }

    #[test]
    fn empty_and_mismatched_series_are_errors() {
        assert!(LinePlot::new("empty").render().is_err());
        let err = LinePlot::new("bad")
            .xy("a", vec![0.0], vec![])
            .render()
            .unwrap_err();
        assert!(err.to_string().contains("'a'"));
        assert!(LinePlot::new("log")
            .log_y(true)
            .line("a", vec![0.0, 1.0])
            .render()
            .is_err());
    }

    #[test]
    fn a_log_axis_spans_only_the_decades_of_the_data() {
        // Losses from 1e-20 to 2: the axis must cover about 21 decades, not reach down to 1e-308.
        let figure = LinePlot::new("loss against scale")
            .log_y(true)
            .xy("separated", vec![1.0, 10.0, 100.0], vec![1.9, 5.6e-3, 4.8e-20])
            .render()
            .unwrap();
        let Figure::Svg(svg) = figure else { panic!("an SVG") };
        assert!(svg.contains("separated"));
        assert!(!svg.contains("e-30") && !svg.contains("e-100"), "the axis reaches far below the data");
    }
}
