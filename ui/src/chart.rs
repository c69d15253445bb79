//! Geometry of the inline SVG charts (scales, ticks, label thinning), kept apart from the
//! components so it can be tested on the host.

/// The plot area inside an SVG `viewBox` of `width` × `height`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Frame {
    pub width: f64,
    pub height: f64,
    pub left: f64,
    pub right: f64,
    pub top: f64,
    pub bottom: f64,
}

impl Frame {
    pub fn plot_width(&self) -> f64 {
        (self.width - self.left - self.right).max(1.0)
    }

    pub fn plot_height(&self) -> f64 {
        (self.height - self.top - self.bottom).max(1.0)
    }

    /// y of a value on a 0..=`max` axis.
    pub fn y(&self, value: f64, max: f64) -> f64 {
        let ratio = if max > 0.0 {
            (value / max).clamp(0.0, 1.0)
        } else {
            0.0
        };
        self.top + self.plot_height() * (1.0 - ratio)
    }

    /// x of point `i` of `n`, spread edge to edge (one point sits in the middle).
    pub fn x_point(&self, i: usize, n: usize) -> f64 {
        if n <= 1 {
            return self.left + self.plot_width() / 2.0;
        }
        self.left + self.plot_width() * i as f64 / (n - 1) as f64
    }

    /// Left edge and width of bar `i` of `n`, with `gap` (0..1) of each slot left empty.
    pub fn bar(&self, i: usize, n: usize, gap: f64) -> (f64, f64) {
        let slot = self.plot_width() / n.max(1) as f64;
        let width = slot * (1.0 - gap.clamp(0.0, 0.9));
        (self.left + slot * i as f64 + (slot - width) / 2.0, width)
    }
}

/// The smallest "nice" number (1, 2, 2.5, 5 × 10^k) that is ≥ `value`; 1 for nothing.
pub fn nice_ceiling(value: f64) -> f64 {
    if !value.is_finite() || value <= 0.0 {
        return 1.0;
    }
    let exponent = value.log10().floor();
    let base = 10f64.powf(exponent);
    for step in [1.0, 2.0, 2.5, 5.0, 10.0] {
        let candidate = step * base;
        if candidate >= value * (1.0 - 1e-12) {
            return candidate;
        }
    }
    10.0 * base
}

/// Ticks from 0 in the smallest nice step that reaches `max` in at most `count` steps.
pub fn ticks(max: f64, count: usize) -> Vec<f64> {
    let count = count.max(1);
    if !max.is_finite() || max <= 0.0 {
        return (0..=count).map(|i| i as f64).collect();
    }
    let step = nice_ceiling(max / count as f64);
    let steps = ((max / step) - 1e-9).ceil().max(1.0) as usize;
    (0..=steps).map(|i| step * i as f64).collect()
}

/// Which of `n` x-axis labels to print so that at most `max_labels` show (always the last).
pub fn label_indices(n: usize, max_labels: usize) -> Vec<usize> {
    if n == 0 {
        return Vec::new();
    }
    let max_labels = max_labels.max(2);
    let step = n.div_ceil(max_labels).max(1);
    let mut out: Vec<usize> = (0..n).step_by(step).collect();
    if out.last() != Some(&(n - 1)) {
        // Drop a label that would crowd the last one.
        if out.len() > 1 && n - 1 - out[out.len() - 1] < step / 2 + 1 {
            out.pop();
        }
        out.push(n - 1);
    }
    out
}

/// The `points` attribute of a polyline through `values`.
pub fn polyline(frame: &Frame, values: &[f64], max: f64) -> String {
    values
        .iter()
        .enumerate()
        .map(|(i, v)| {
            format!(
                "{:.1},{:.1}",
                frame.x_point(i, values.len()),
                frame.y(*v, max)
            )
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// A closed area under the polyline, for a light fill.
pub fn area(frame: &Frame, values: &[f64], max: f64) -> String {
    if values.is_empty() {
        return String::new();
    }
    let base = frame.top + frame.plot_height();
    format!(
        "{:.1},{:.1} {} {:.1},{:.1}",
        frame.x_point(0, values.len()),
        base,
        polyline(frame, values, max),
        frame.x_point(values.len() - 1, values.len()),
        base
    )
}

/// Short axis label: `1.5K`, `20M`, `0.25`.
pub fn axis_label(value: f64) -> String {
    if value >= 1000.0 || value == value.trunc() {
        crate::format::compact(value.round() as i64)
    } else {
        let text = format!("{value:.2}");
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FRAME: Frame = Frame {
        width: 600.0,
        height: 200.0,
        left: 50.0,
        right: 10.0,
        top: 10.0,
        bottom: 30.0,
    };

    #[test]
    fn rounds_up_to_nice_numbers() {
        assert_eq!(nice_ceiling(0.0), 1.0);
        assert_eq!(nice_ceiling(7.0), 10.0);
        assert_eq!(nice_ceiling(10.0), 10.0);
        assert_eq!(nice_ceiling(11.0), 20.0);
        assert_eq!(nice_ceiling(230.0), 250.0);
        assert_eq!(nice_ceiling(0.03), 0.05);
        assert_eq!(ticks(95.0, 4), vec![0.0, 25.0, 50.0, 75.0, 100.0]);
        assert_eq!(ticks(0.0, 4), vec![0.0, 1.0, 2.0, 3.0, 4.0]);
        assert_eq!(ticks(41.0, 5), vec![0.0, 10.0, 20.0, 30.0, 40.0, 50.0]);
        assert_eq!(ticks(40.0, 5), vec![0.0, 10.0, 20.0, 30.0, 40.0]);
        assert_eq!(ticks(36.0, 5).last(), Some(&40.0));
        assert_eq!(ticks(1234.0, 4).last(), Some(&1500.0));
        let small = ticks(0.0041, 5);
        assert_eq!(small.len(), 6);
        assert!(small.last().is_some_and(|top| (top - 0.005).abs() < 1e-12));
    }

    #[test]
    fn maps_values_into_the_frame() {
        assert_eq!(FRAME.y(0.0, 100.0), 170.0);
        assert_eq!(FRAME.y(100.0, 100.0), 10.0);
        assert_eq!(FRAME.y(50.0, 0.0), 170.0);
        assert_eq!(FRAME.x_point(0, 3), 50.0);
        assert_eq!(FRAME.x_point(2, 3), 590.0);
        assert_eq!(FRAME.x_point(0, 1), 320.0);
        let (x, w) = FRAME.bar(0, 24, 0.3);
        assert!((w - 15.75).abs() < 1e-9);
        assert!((x - 53.375).abs() < 1e-9);
        assert_eq!(
            polyline(&FRAME, &[0.0, 100.0], 100.0),
            "50.0,170.0 590.0,10.0"
        );
        assert_eq!(
            area(&FRAME, &[0.0, 100.0], 100.0),
            "50.0,170.0 50.0,170.0 590.0,10.0 590.0,170.0"
        );
    }

    #[test]
    fn thins_labels() {
        assert_eq!(label_indices(0, 8), Vec::<usize>::new());
        assert_eq!(label_indices(5, 8), vec![0, 1, 2, 3, 4]);
        assert_eq!(label_indices(30, 8), vec![0, 4, 8, 12, 16, 20, 24, 29]);
        assert_eq!(label_indices(31, 8), vec![0, 4, 8, 12, 16, 20, 24, 30]);
        assert!(label_indices(90, 8).len() <= 9);
    }

    #[test]
    fn labels_axes() {
        assert_eq!(axis_label(0.0), "0");
        assert_eq!(axis_label(2500.0), "2,500");
        assert_eq!(axis_label(25_000.0), "25K");
        assert_eq!(axis_label(0.25), "0.25");
    }
}
