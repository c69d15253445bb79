//! Inline SVG charts: a line (with area) for the daily trend and bars for the hours of the
//! day. Values show on hover through SVG `<title>` tooltips.

use yew::prelude::*;

use crate::chart::{Frame, area, axis_label, label_indices, polyline, ticks};
use crate::context::use_app;

const FRAME: Frame = Frame {
    width: 1000.0,
    height: 250.0,
    left: 52.0,
    right: 16.0,
    top: 14.0,
    bottom: 30.0,
};

#[derive(Properties, PartialEq)]
pub struct ChartProps {
    pub labels: Vec<String>,
    pub values: Vec<f64>,
    /// How a value reads in the tooltip (`12,345`, `1.2345`).
    pub format: Callback<f64, String>,
    #[prop_or_default]
    pub testid: AttrValue,
    /// `blue`, `violet`, `green`, `amber`.
    #[prop_or(AttrValue::Static("blue"))]
    pub tone: AttrValue,
}

fn grid(max: f64) -> (f64, Html) {
    let ticks = ticks(max, 5);
    let top = ticks.last().copied().unwrap_or(1.0);
    let lines = ticks
        .iter()
        .map(|tick| {
            let y = FRAME.y(*tick, top);
            html! {
                <g>
                    <line class="grid" x1={FRAME.left.to_string()} x2={(FRAME.width - FRAME.right).to_string()}
                        y1={y.to_string()} y2={y.to_string()} />
                    <text class="axis" x={(FRAME.left - 8.0).to_string()} y={(y + 4.0).to_string()} text-anchor="end">
                        { axis_label(*tick) }
                    </text>
                </g>
            }
        })
        .collect::<Html>();
    (top, lines)
}

fn empty(tr: crate::i18n::Tr, testid: &AttrValue) -> Html {
    html! {
        <div class="chart-empty" data-testid={testid.clone()}>{ tr.t("common.empty") }</div>
    }
}

#[component]
pub fn LineChart(props: &ChartProps) -> Html {
    let tr = use_app().tr;
    if props.values.is_empty() {
        return empty(tr, &props.testid);
    }
    let max = props.values.iter().copied().fold(0.0, f64::max);
    let (top, grid) = grid(max);
    let n = props.values.len();
    let base = FRAME.top + FRAME.plot_height();
    let labels = label_indices(n, 8)
        .into_iter()
        .map(|i| {
            let label = props.labels.get(i).cloned().unwrap_or_default();
            let short = label.get(5..).map(str::to_string).unwrap_or(label);
            html! {
                <text class="axis" x={FRAME.x_point(i, n).to_string()} y={(base + 18.0).to_string()} text-anchor="middle">
                    { short }
                </text>
            }
        })
        .collect::<Html>();
    let points = props
        .values
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let label = props.labels.get(i).cloned().unwrap_or_default();
            html! {
                <circle class="dot" cx={FRAME.x_point(i, n).to_string()} cy={FRAME.y(*v, top).to_string()} r="3.5">
                    <title>{ format!("{label}: {}", props.format.emit(*v)) }</title>
                </circle>
            }
        })
        .collect::<Html>();
    html! {
        <svg class={classes!("chart", format!("chart-{}", props.tone))} viewBox={format!("0 0 {} {}", FRAME.width, FRAME.height)}
            role="img" data-testid={props.testid.clone()}>
            { grid }
            <polygon class="area" points={area(&FRAME, &props.values, top)} />
            <polyline class="line" points={polyline(&FRAME, &props.values, top)} />
            { points }
            { labels }
        </svg>
    }
}

#[component]
pub fn BarChart(props: &ChartProps) -> Html {
    let tr = use_app().tr;
    if props.values.is_empty() {
        return empty(tr, &props.testid);
    }
    let max = props.values.iter().copied().fold(0.0, f64::max);
    let (top, grid) = grid(max);
    let n = props.values.len();
    let base = FRAME.top + FRAME.plot_height();
    let bars = props
        .values
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let (x, width) = FRAME.bar(i, n, 0.3);
            let y = FRAME.y(*v, top);
            let label = props.labels.get(i).cloned().unwrap_or_default();
            html! {
                <g>
                    <rect class="bar" x={x.to_string()} y={y.to_string()} width={width.to_string()}
                        height={(base - y).max(0.0).to_string()} rx="2">
                        <title>{ format!("{label}: {}", props.format.emit(*v)) }</title>
                    </rect>
                    if i % 2 == 0 || n <= 12 {
                        <text class="axis" x={(x + width / 2.0).to_string()} y={(base + 18.0).to_string()} text-anchor="middle">
                            { label.clone() }
                        </text>
                    }
                </g>
            }
        })
        .collect::<Html>();
    html! {
        <svg class={classes!("chart", format!("chart-{}", props.tone))} viewBox={format!("0 0 {} {}", FRAME.width, FRAME.height)}
            role="img" data-testid={props.testid.clone()}>
            { grid }
            { bars }
        </svg>
    }
}
