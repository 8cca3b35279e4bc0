pub mod explain;
pub mod matrix;
