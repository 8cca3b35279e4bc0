pub mod diff;
pub mod explain;
pub mod r#gen;
pub mod lint;
pub mod matrix;
pub mod nft;
pub mod probe;
pub mod verify;
