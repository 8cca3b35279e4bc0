//! Reading the manifests' JSON where the rules walk it by hand (objects the
//! loader does not model: routes, monitors, webhooks, Endpoints).

use serde_json::Value;

/// The items of an optional array: none when the field is absent or is no
/// array, which the rules treat alike (the loader reported bad types).
pub trait Items<'v> {
    fn items(self) -> std::slice::Iter<'v, Value>;
}

impl<'v> Items<'v> for Option<&'v Value> {
    fn items(self) -> std::slice::Iter<'v, Value> {
        self.and_then(Value::as_array)
            .map_or([].iter(), |a| a.iter())
    }
}
