//! The flows file on any text, then expanded and generated against a fixed
//! synthetic cluster: errors, never a panic.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use netpol_model::Cluster;

fn cluster() -> &'static Cluster {
    static CLUSTER: OnceLock<Cluster> = OnceLock::new();
    CLUSTER.get_or_init(|| netpol_synth::generate(&netpol_synth::Params::new(24, 7)))
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(flows) = netpol_flows::parse_flows("fuzz.yaml", text) {
        let expansion = netpol_flows::expand(cluster(), &flows);
        let generated = netpol_flows::generate(&expansion);
        // Every generated file name stays a plain `<namespace>.yaml`.
        for name in generated.files.keys() {
            let stem = name.strip_suffix(".yaml").expect("a .yaml file");
            assert!(netpol_model::namespace_name_error(stem).is_none(), "{name}");
        }
    }
});
