pub mod diff;
pub mod explain;
pub mod r#gen;
pub mod lint;
pub mod matrix;
pub mod probe;
pub mod verify;
