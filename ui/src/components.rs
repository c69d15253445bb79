//! Reusable pieces shared by the pages.

pub mod charts;
pub mod dialog;
pub mod form;
pub mod icon;
pub mod layout;
pub mod misc;
pub mod pagination;
pub mod table;
pub mod toast;
