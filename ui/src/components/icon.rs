//! Line icons drawn for this app (24×24, stroke = current text colour), inlined as SVG
//! so the bundle needs no icon font or CDN.

use yew::prelude::*;

fn path(name: &str) -> &'static str {
    match name {
        "plus" => "M12 5v14M5 12h14",
        "edit" => "M4 20h4L19 9l-4-4L4 16v4z M13.5 6.5l4 4",
        "trash" => "M4 7h16 M9 7V4h6v3 M6 7l1 13h10l1-13 M10 11v5 M14 11v5",
        "zap" => "M13 2L4 14h7l-1 8 9-12h-7l1-8z",
        "file" => "M6 2h8l5 5v15H6z M14 2v5h5 M9 13h7 M9 17h5",
        "chart" => "M3 21h18 M6 17v-5 M11 17V6 M16 17v-8 M21 17v-3",
        "list" => "M9 6h12 M9 12h12 M9 18h12 M4 6h.01 M4 12h.01 M4 18h.01",
        "cpu" => {
            "M7 7h10v10H7z M10 10h4v4h-4z M9 2v3 M15 2v3 M9 19v3 M15 19v3 M2 9h3 M2 15h3 M19 9h3 M19 15h3"
        }
        "users" => {
            "M9 11a3.5 3.5 0 1 0 0-7 3.5 3.5 0 0 0 0 7z M2.5 20c0-3.6 2.9-6 6.5-6s6.5 2.4 6.5 6 M16 4.5a3.5 3.5 0 0 1 0 6.5 M18 14.5c2 .7 3.5 2.6 3.5 5.5"
        }
        "user" => "M12 12a4 4 0 1 0 0-8 4 4 0 0 0 0 8z M4 21c0-4 3.6-6.5 8-6.5s8 2.5 8 6.5",
        "key" => {
            "M8 20a4.5 4.5 0 1 0 0-9 4.5 4.5 0 0 0 0 9z M11.2 12.3L20 3.5 M16.5 7l3 3 M14.5 9l2 2"
        }
        "layers" => "M12 3l9 5-9 5-9-5 9-5z M3 13l9 5 9-5 M3 17.5l9 5 9-5",
        "refresh" => "M20 11a8 8 0 0 0-14.9-3.5 M4 3.5v4h4 M4 13a8 8 0 0 0 14.9 3.5 M20 20.5v-4h-4",
        "logout" => "M14 4h5v16h-5 M10 8l-4 4 4 4 M6 12h11",
        "eye" => {
            "M2 12s3.5-7 10-7 10 7 10 7-3.5 7-10 7S2 12 2 12z M12 15a3 3 0 1 0 0-6 3 3 0 0 0 0 6z"
        }
        "eye-off" => {
            "M2 12s3.5-7 10-7 10 7 10 7-3.5 7-10 7S2 12 2 12z M12 15a3 3 0 1 0 0-6 3 3 0 0 0 0 6z M3 3l18 18"
        }
        "copy" => "M9 9h11v11H9z M5 15H4V4h11v1",
        "search" => "M11 18a7 7 0 1 0 0-14 7 7 0 0 0 0 14z M21 21l-5-5",
        "x" => "M6 6l12 12 M18 6L6 18",
        "download" => "M12 3v12 M7 10l5 5 5-5 M4 21h16",
        "check" => "M5 12.5l4.5 4.5L20 6.5",
        "alert" => "M12 21a9 9 0 1 0 0-18 9 9 0 0 0 0 18z M12 7.5v6 M12 16.5v.01",
        "home" => "M3 11l9-7 9 7 M5 9.5V20h5v-6h4v6h5V9.5",
        "info" => "M12 21a9 9 0 1 0 0-18 9 9 0 0 0 0 18z M12 11v6 M12 7.5v.01",
        "globe" => {
            "M12 21a9 9 0 1 0 0-18 9 9 0 0 0 0 18z M3 12h18 M12 3c2.5 2.5 3.5 5.5 3.5 9s-1 6.5-3.5 9c-2.5-2.5-3.5-5.5-3.5-9s1-6.5 3.5-9z"
        }
        "power" => "M12 3v8 M6.3 6.3a8 8 0 1 0 11.4 0",
        "left" => "M15 6l-6 6 6 6",
        "up" => "M6 15l6-6 6 6",
        "settings" => {
            "M12 15a3 3 0 1 0 0-6 3 3 0 0 0 0 6z M12 2.5v3 M12 18.5v3 M2.5 12h3 M18.5 12h3 M5.3 5.3l2.1 2.1 M16.6 16.6l2.1 2.1 M5.3 18.7l2.1-2.1 M16.6 7.4l2.1-2.1"
        }
        "down" => "M6 9l6 6 6-6",
        "right" => "M9 6l6 6-6 6",
        "activity" => "M3 12h4l3-8 4 16 3-8h4",
        "check-circle" => "M12 21a9 9 0 1 0 0-18 9 9 0 0 0 0 18z M8 12.5l3 3 5-6",
        "clock" => "M12 21a9 9 0 1 0 0-18 9 9 0 0 0 0 18z M12 7v5l3.5 2",
        "hash" => "M5 9h15 M4 15h15 M10.5 3.5l-2 17 M15.5 3.5l-2 17",
        "coin" => {
            "M12 21a9 9 0 1 0 0-18 9 9 0 0 0 0 18z M9 8l3 4 3-4 M12 12v5 M9.5 12.5h5 M9.5 15h5"
        }
        "bot" => "M5 8h14v11H5z M12 4v4 M9.5 13v1.5 M14.5 13v1.5 M2.5 12v3 M21.5 12v3",
        "lock" => "M6 11h12v10H6z M8.5 11V8a3.5 3.5 0 0 1 7 0v3",
        "calendar" => "M4 6h16v15H4z M4 10h16 M8 3v5 M16 3v5",
        _ => "M12 12h.01",
    }
}

#[derive(Properties, PartialEq)]
pub struct IconProps {
    pub name: AttrValue,
    #[prop_or_default]
    pub class: Classes,
}

#[component]
pub fn Icon(props: &IconProps) -> Html {
    html! {
        <svg class={classes!("icon", props.class.clone())} viewBox="0 0 24 24" fill="none"
            stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round"
            aria-hidden="true" focusable="false">
            <path d={path(&props.name)} />
        </svg>
    }
}
