//! The history chart: one bar per month of total points, the minimum to
//! qualify as a dashed line, and the qualification (or renewal) window as a
//! shaded band. Rendered on the server as SVG with exact decimal geometry;
//! the page puts a table of the same numbers next to it.

use maud::{Markup, html};
use pcs_core::Decimal;
use pcs_core::calendar::Month;

use super::view::num;

/// One bar.
#[derive(Clone, Debug)]
pub(crate) struct Bar {
    /// The month scored.
    pub month: Month,
    /// Its total points.
    pub total: Decimal,
    /// Whether the partner qualified that month.
    pub qualified: bool,
}

/// What the chart shows.
#[derive(Clone, Debug)]
pub(crate) struct Chart {
    /// Bars, oldest first.
    pub bars: Vec<Bar>,
    /// The top of the scale (the sum of the metrics' maxima).
    pub max: Decimal,
    /// The total needed to qualify.
    pub min_total: Decimal,
    /// The window that decides the status: first and last month, and its name.
    pub window: Option<(Month, Month, String)>,
}

const WIDTH: i64 = 720;
const HEIGHT: i64 = 280;
const LEFT: i64 = 44;
const RIGHT: i64 = 78;
const TOP: i64 = 28;
const BOTTOM: i64 = 44;

fn d(n: i64) -> Decimal {
    Decimal::from(n)
}

/// A coordinate with at most one decimal.
fn c(x: Decimal) -> String {
    num(x.round_dp(1))
}

/// The computed geometry, kept apart from the markup so tests can check it.
#[derive(Debug, PartialEq)]
pub(crate) struct Geometry {
    /// Per bar: x, y, width, height.
    pub bars: Vec<(Decimal, Decimal, Decimal, Decimal)>,
    /// The y of the minimum line.
    pub min_y: Decimal,
    /// The window band: x and width, when a shown month is inside it.
    pub window: Option<(Decimal, Decimal)>,
}

impl Chart {
    fn plot_w() -> Decimal {
        d(WIDTH - LEFT - RIGHT)
    }

    fn plot_h() -> Decimal {
        d(HEIGHT - TOP - BOTTOM)
    }

    fn y(&self, v: Decimal) -> Decimal {
        let max = if self.max > Decimal::ZERO {
            self.max
        } else {
            Decimal::ONE_HUNDRED
        };
        let v = v.max(Decimal::ZERO).min(max);
        d(TOP) + Self::plot_h() - v / max * Self::plot_h()
    }

    fn slot(&self) -> Decimal {
        Self::plot_w() / d(self.bars.len().max(1) as i64)
    }

    /// Bar rectangles, the minimum line and the window band.
    pub(crate) fn geometry(&self) -> Geometry {
        let slot = self.slot();
        let bar_w = slot * Decimal::new(6, 1);
        let bars = self
            .bars
            .iter()
            .enumerate()
            .map(|(i, b)| {
                let x = d(LEFT) + slot * d(i as i64) + slot * Decimal::new(2, 1);
                let y = self.y(b.total);
                (x, y, bar_w, d(TOP) + Self::plot_h() - y)
            })
            .collect();
        let window = self.window.as_ref().and_then(|(from, to, _)| {
            let inside: Vec<usize> = self
                .bars
                .iter()
                .enumerate()
                .filter(|(_, b)| b.month >= *from && b.month <= *to)
                .map(|(i, _)| i)
                .collect();
            let (first, last) = (*inside.first()?, *inside.last()?);
            Some((
                d(LEFT) + slot * d(first as i64),
                slot * d((last - first + 1) as i64),
            ))
        });
        Geometry {
            bars,
            min_y: self.y(self.min_total),
            window,
        }
    }

    /// A sentence describing the chart (its text alternative's summary).
    pub(crate) fn describe(&self) -> String {
        let parts: Vec<String> = self
            .bars
            .iter()
            .map(|b| {
                format!(
                    "{} {}{}",
                    b.month,
                    num(b.total),
                    if b.qualified { " (qualified)" } else { "" }
                )
            })
            .collect();
        let window = self
            .window
            .as_ref()
            .map(|(f, t, name)| format!(" The {name} runs from {f} to {t}."))
            .unwrap_or_default();
        format!(
            "Total points by month, {} needed to qualify: {}.{window}",
            num(self.min_total),
            parts.join(", ")
        )
    }

    /// The SVG.
    pub(crate) fn render(&self, id: &str) -> Markup {
        let g = self.geometry();
        let max = if self.max > Decimal::ZERO {
            self.max
        } else {
            Decimal::ONE_HUNDRED
        };
        let ticks: Vec<Decimal> = (0..=4).map(|i| max * d(i) / d(4)).collect();
        let right = d(WIDTH - RIGHT);
        let bottom = d(HEIGHT - BOTTOM);
        let title_id = format!("{id}-title");
        let desc_id = format!("{id}-desc");
        html! {
            svg.chart #(id) xmlns="http://www.w3.org/2000/svg"
                viewBox=(format!("0 0 {WIDTH} {HEIGHT}")) role="img"
                aria-labelledby=(format!("{title_id} {desc_id}")) {
                title #(title_id) { "Total points, last " (self.bars.len()) " months" }
                desc #(desc_id) { (self.describe()) }
                @if let (Some((x, w)), Some((from, to, name))) = (g.window, &self.window) {
                    rect.window x=(c(x)) y=(TOP) width=(c(w)) height=(HEIGHT - TOP - BOTTOM) {}
                    line.window-edge x1=(c(x)) y1=(TOP) x2=(c(x)) y2=(c(bottom)) {}
                    line.window-edge x1=(c(x + w)) y1=(TOP) x2=(c(x + w)) y2=(c(bottom)) {}
                    text.winl x=(c(x + Decimal::new(4, 0))) y=(TOP - 8) {
                        (name) " " (from) " – " (to)
                    }
                }
                @for t in &ticks {
                    line.grid x1=(LEFT) y1=(c(self.y(*t))) x2=(c(right)) y2=(c(self.y(*t))) {}
                    text x=(LEFT - 6) y=(c(self.y(*t) + Decimal::new(4, 0))) text-anchor="end" { (num(t.round_dp(1))) }
                }
                line.axis x1=(LEFT) y1=(c(bottom)) x2=(c(right)) y2=(c(bottom)) {}
                @for (b, (x, y, w, h)) in self.bars.iter().zip(&g.bars) {
                    g data-month=(b.month.to_string()) data-total=(num(b.total)) {
                        rect class=(if b.qualified { "barq" } else { "barn" })
                            x=(c(*x)) y=(c(*y)) width=(c(*w)) height=(c(*h)) rx="2" {
                            title { (b.month) ": " (num(b.total)) " points" @if b.qualified { ", qualified" } }
                        }
                        text.val x=(c(*x + *w / d(2))) y=(c(*y - Decimal::new(5, 0))) text-anchor="middle" { (num(b.total)) }
                        text x=(c(*x + *w / d(2))) y=(c(bottom + d(18))) text-anchor="middle" { (b.month) }
                    }
                }
                line.min x1=(LEFT) y1=(c(g.min_y)) x2=(c(right)) y2=(c(g.min_y)) {}
                text.minl x=(c(right + d(6))) y=(c(g.min_y - Decimal::new(3, 0))) {
                    tspan { (num(self.min_total)) }
                    tspan x=(c(right + d(6))) dy="14" { "to qualify" }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chart() -> Chart {
        let months = [
            "2023-06", "2023-07", "2023-08", "2023-09", "2023-10", "2023-11",
        ];
        let totals = ["0", "25", "50", "70", "100", "120"];
        Chart {
            bars: months
                .iter()
                .zip(totals)
                .map(|(m, t)| Bar {
                    month: m.parse().unwrap(),
                    total: t.parse().unwrap(),
                    qualified: t.parse::<Decimal>().unwrap() >= d(70),
                })
                .collect(),
            max: d(100),
            min_total: d(70),
            window: Some((
                "2022-12".parse().unwrap(),
                "2023-11".parse().unwrap(),
                "qualification window".into(),
            )),
        }
    }

    #[test]
    fn bars_are_proportional_to_the_total_and_clamped_to_the_scale() {
        let g = chart().geometry();
        // Plot: x 44..642 (598 wide, 99.67 per slot), y 28..236 (208 high).
        assert_eq!(g.bars.len(), 6);
        let slot = d(598) / d(6);
        assert_eq!(
            g.bars[0],
            (d(44) + slot / d(5), d(236), slot * d(3) / d(5), d(0))
        );
        assert_eq!(g.bars[1].3, d(52));
        assert_eq!(g.bars[2].3, d(104));
        assert_eq!(
            g.bars[4],
            (
                d(44) + slot * d(4) + slot / d(5),
                d(28),
                slot * d(3) / d(5),
                d(208)
            )
        );
        // 120 of 100 is drawn at the top, not above the plot.
        assert_eq!(g.bars[5].1, d(28));
        assert_eq!(g.min_y, d(236) - d(208) * d(70) / d(100));
    }

    #[test]
    fn the_window_covers_the_shown_months_inside_it() {
        let mut ch = chart();
        let slot = d(598) / d(6);
        assert_eq!(ch.geometry().window, Some((d(44), slot * d(6))));
        ch.window = Some((
            "2023-09".parse().unwrap(),
            "2023-10".parse().unwrap(),
            "renewal window".into(),
        ));
        assert_eq!(
            ch.geometry().window,
            Some((d(44) + slot * d(3), slot * d(2)))
        );
        ch.window = Some((
            "2024-01".parse().unwrap(),
            "2024-03".parse().unwrap(),
            "renewal window".into(),
        ));
        assert_eq!(ch.geometry().window, None);
    }

    #[test]
    fn the_svg_has_a_text_alternative_and_marks_qualified_months() {
        let svg = chart().render("h").into_string();
        assert!(svg.starts_with("<svg class=\"chart\" id=\"h\""), "{svg}");
        assert!(svg.contains(r#"role="img" aria-labelledby="h-title h-desc""#));
        assert!(svg.contains("<desc id=\"h-desc\">Total points by month, 70 needed to qualify: 2023-06 0, 2023-07 25, 2023-08 50, 2023-09 70 (qualified)"), "{svg}");
        assert!(svg.contains("The qualification window runs from 2022-12 to 2023-11."));
        assert_eq!(svg.matches("class=\"barq\"").count(), 3);
        assert_eq!(svg.matches("class=\"barn\"").count(), 3);
        assert!(svg.contains(r#"<g data-month="2023-10" data-total="100">"#));
        assert!(svg.contains("<tspan>70</tspan>"), "{svg}");
    }

    #[test]
    fn one_month_and_an_empty_scale_still_draw() {
        let ch = Chart {
            bars: vec![Bar {
                month: "2023-11".parse().unwrap(),
                total: d(10),
                qualified: false,
            }],
            max: d(0),
            min_total: d(70),
            window: None,
        };
        let g = ch.geometry();
        assert_eq!(g.bars[0].2, d(598) * d(3) / d(5));
        assert!(ch.render("x").into_string().contains("</svg>"));
    }
}
