//! Publishing is atomic: a run killed at any point of publishing leaves the previous
//! output readable and whole (or the new one, whole, once the swap happened), and the
//! next run cleans up. The Parquet output reads back with parquet2/arrow2.

mod support;

use std::fs;
use std::path::Path;

use support::*;

/// A second source folder whose output differs from [`write_small_sources`]'s.
fn write_changed_sources(dir: &Path) {
    write_small_sources(dir);
    fs::write(
        dir.join("orders.json"),
        r#"[{"orderId": 10, "cityCode": "LIS"}, {"orderId": 11, "cityCode": "MAD"}]"#,
    )
    .unwrap();
}

fn staging_leftovers(parent: &Path) -> Vec<String> {
    support::leftovers_beside(parent)
}

#[test]
fn abort_before_the_swap_keeps_the_old_output_and_after_it_the_new_one() {
    let tmp = tempfile::tempdir().unwrap();
    let (old_src, new_src, out) = (
        tmp.path().join("a"),
        tmp.path().join("b"),
        tmp.path().join("out"),
    );
    write_small_sources(&old_src);
    write_changed_sources(&new_src);
    let new_out = tmp.path().join("reference");
    assert!(run_job(&new_src, &new_out, &[]).status.success());
    let new_table = table_snapshot(&new_out);

    for (point, expect_new) in [
        ("publish-mid-write", false),
        ("publish-before-swap", false),
        ("publish-after-swap", true),
    ] {
        assert!(run_job(&old_src, &out, &[]).status.success());
        let old = snapshot(&out);
        let killed = support::ccc()
            .args([
                "run",
                "--checks",
                "off",
                "--quiet",
                "--source",
                path_str(&new_src),
                "--out",
                path_str(&out),
            ])
            .env("CCC_TEST_ABORT_AT", point)
            .output()
            .unwrap();
        assert!(
            !killed.status.success(),
            "{point}: the hook aborts the process"
        );
        if expect_new {
            assert_eq!(
                table_snapshot(&out),
                new_table,
                "{point}: the swap happened, the new output is whole"
            );
        } else {
            assert_eq!(snapshot(&out), old, "{point}: the old output is untouched");
        }
        // The next run cleans up whatever the killed one left beside the output.
        assert!(run_job(&old_src, &out, &[]).status.success());
        assert_eq!(
            staging_leftovers(tmp.path()),
            Vec::<String>::new(),
            "{point}"
        );
    }
}

#[test]
fn sigkill_while_publishing_keeps_the_old_output() {
    let tmp = tempfile::tempdir().unwrap();
    let (old_src, new_src, out) = (
        tmp.path().join("a"),
        tmp.path().join("b"),
        tmp.path().join("out"),
    );
    write_small_sources(&old_src);
    write_changed_sources(&new_src);
    assert!(run_job(&old_src, &out, &[]).status.success());
    let old = snapshot(&out);
    let mut child = spawn_paused(
        support::ccc().args([
            "run",
            "--checks",
            "off",
            "--quiet",
            "--source",
            path_str(&new_src),
            "--out",
            path_str(&out),
        ]),
        "publish-before-swap",
    );
    child.kill().unwrap(); // SIGKILL: no destructor, no cleanup
    child.wait().unwrap();
    assert_eq!(snapshot(&out), old);
    assert_eq!(
        staging_leftovers(tmp.path()).len(),
        1,
        "the killed run's staging folder is left behind"
    );
    assert!(run_job(&new_src, &out, &[]).status.success());
    assert_eq!(staging_leftovers(tmp.path()), Vec::<String>::new());
    assert!(
        table_csv(&out)[0].contains(",10,LIS,"),
        "{:?}",
        table_csv(&out)
    );
}

#[test]
fn parquet_parts_read_back_with_the_same_values_as_csv() {
    use arrow2::array::{PrimitiveArray, Utf8Array};
    use arrow2::io::parquet::read;

    let tmp = tempfile::tempdir().unwrap();
    let (src, out) = (tmp.path().join("src"), tmp.path().join("out"));
    write_small_sources(&src);
    assert!(run_job(&src, &out, &[]).status.success());
    let part = first_part(&out, "parquet");
    let mut file = fs::File::open(&part).unwrap();
    let metadata = read::read_metadata(&mut file).unwrap();
    let schema = read::infer_schema(&metadata).unwrap();
    let names: Vec<_> = schema.fields.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "order_id",
            "city_code",
            "first_courier_message",
            "first_customer_message",
            "num_messages_courier",
            "num_messages_customer",
            "first_message_by",
            "conversation_started_at",
            "first_responsetime_delay_seconds",
            "last_message_time",
            "last_message_order_stage"
        ]
    );
    assert!(!schema.fields[0].is_nullable, "order_id is required");
    assert_eq!(
        schema.fields[7].data_type,
        arrow2::datatypes::DataType::Timestamp(
            arrow2::datatypes::TimeUnit::Microsecond,
            Some("UTC".into())
        )
    );
    // Spark and DuckDB read the Parquet logical type, not the Arrow schema: it must say UTC micros.
    let parquet_type = format!(
        "{:?}",
        metadata.schema().columns()[7]
            .descriptor
            .primitive_type
            .logical_type
    );
    assert!(
        parquet_type.contains("Timestamp") && parquet_type.contains("is_adjusted_to_utc: true"),
        "{parquet_type}"
    );
    let reader = read::FileReader::new(file, metadata.row_groups, schema, None, None, None);
    let chunks: Vec<_> = reader.collect::<Result<_, _>>().unwrap();
    assert_eq!(chunks.len(), 1);
    let chunk = &chunks[0];
    let order_id = chunk.arrays()[0]
        .as_any()
        .downcast_ref::<PrimitiveArray<i64>>()
        .unwrap();
    let city = chunk.arrays()[1]
        .as_any()
        .downcast_ref::<Utf8Array<i32>>()
        .unwrap();
    let delay = chunk.arrays()[8]
        .as_any()
        .downcast_ref::<PrimitiveArray<i64>>()
        .unwrap();
    assert_eq!(order_id.values().as_slice(), &[10]);
    assert_eq!(city.value(0), "BCN");
    assert_eq!(delay.get(0), Some(30));
    assert_eq!(
        table_csv(&out)[0],
        "2024-02-01,10,BCN,2024-02-01T10:00:30Z,2024-02-01T10:00:00Z,1,1,customer,2024-02-01T10:00:00Z,30,2024-02-01T10:00:30Z,PICKED_UP"
    );
    // parquet2 alone (the low-level reader) agrees on the row count.
    let mut raw = fs::File::open(&part).unwrap();
    let meta = parquet2::read::read_metadata(&mut raw).unwrap();
    assert_eq!(meta.num_rows, 1);
}
