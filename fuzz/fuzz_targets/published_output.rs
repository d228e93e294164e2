//! The readers of a published output folder: the bytes as
//! `parquet/conversation_date=2024-02-01/part-0.parquet` and
//! `csv/conversation_date=2024-02-01/part-0.csv`, read back by `ccc_ingest::read_layout_file`
//! into the output table's layout as `ccc validate --data` does (the Parquet file also into
//! the incremental state's two layouts, as `crates/transform/src/incremental/store.rs`
//! reads them; the CSV file also in 64-byte chunks, compared with the whole-file read),
//! and as `_run.json`, read by `ccc_transform::incremental::published_token`.
//!
//! `ccc validate`'s own `_run.json` reader (`published_metrics`) is in the binary crate
//! and is not linked here.
#![no_main]

use ccc_ingest::{Format, ReadOptions};
use libfuzzer_sys::fuzz_target;

const DATE: &str = "conversation_date=2024-02-01";

fuzz_target!(|data: &[u8]| {
    let out = ccc_fuzz::subdir("out");
    let parquet = ccc_fuzz::put(
        &ccc_fuzz::subdir(&format!("out/parquet/{DATE}")),
        "part-0.parquet",
        data,
    );
    let csv = ccc_fuzz::put(
        &ccc_fuzz::subdir(&format!("out/csv/{DATE}")),
        "part-0.csv",
        data,
    );
    ccc_fuzz::put(&out, "_run.json", data);

    let output = ccc_transform::schema::output_layout();
    let defaults = ReadOptions::default();
    let _ = ccc_ingest::read_layout_file(0, &parquet, Format::Parquet, output, &defaults);
    for layout in [
        ccc_transform::incremental::rows::state_layout(),
        ccc_transform::incremental::rows::orders_layout(),
    ] {
        let _ = ccc_ingest::read_layout_file(0, &parquet, Format::Parquet, layout, &defaults);
    }

    let whole = ccc_ingest::read_layout_file(0, &csv, Format::Csv, output, &defaults);
    let chunked = ReadOptions {
        chunk_bytes: 64,
        ..ReadOptions::default()
    };
    let cut = ccc_ingest::read_layout_file(0, &csv, Format::Csv, output, &chunked);
    ccc_fuzz::compare_contents(output, &whole, &cut);

    let _ = ccc_transform::incremental::published_token(&out);
});
