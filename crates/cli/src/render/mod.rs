pub mod diff;
pub mod explain;
pub mod lint;
pub mod matrix;
