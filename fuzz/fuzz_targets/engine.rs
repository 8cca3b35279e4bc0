//! The engine on generated clusters: the matrix and the explained verdict of
//! every sampled connection agree, and neither panics.
#![no_main]

use libfuzzer_sys::fuzz_target;
use netpol_engine::{Engine, Party};

fuzz_target!(|data: &[u8]| {
    if data.len() < 12 {
        return;
    }
    let seed = u64::from_le_bytes(data[..8].try_into().unwrap());
    let params = netpol_synth::Params {
        workloads: 2 + data[8] as usize % 40,
        policies: data[9] as usize % 30,
        namespaces: 1 + data[10] as usize % 5,
        seed,
    };
    let cluster = netpol_synth::generate(&params);
    let engine = Engine::new(&cluster);
    let matrix = engine.matrix();
    let step = 1 + data[11] as usize;
    for cell in matrix.cells().step_by(step).take(64) {
        let v = engine.verdict(
            Party::Endpoint(cell.src),
            Party::Endpoint(cell.dst),
            cell.port,
            cell.protocol,
        );
        assert_eq!(v.allowed, cell.allowed, "{cell:?}: {params:?}");
    }
});
