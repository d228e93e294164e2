//! The output does not depend on thread count, file order, record order, file format or
//! batching, and equals a simple sequential reference written from the spec.

mod support;

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

use ccc_ingest::timestamp::format_rfc3339_micros;
use ccc_ingest::Table;
use proptest::prelude::*;
use serde_json::Value;
use support::sources::{write_csv, write_json, write_ndjson, write_parquet, Record};
use support::*;

#[derive(Debug, Clone)]
struct Message {
    courier: bool,
    from_id: Option<i64>,
    started: bool,
    order_id: i64,
    stage: Option<&'static str>,
    time: i64,
}

const STAGES: [&str; 4] = ["ACCEPTED", "DELIVERED", "ON_ROUTE", "PICKED_UP"];
const BASE: i64 = 1_706_780_000_000_000; // 2024-02-01T09:33:20Z

fn arb_message() -> impl Strategy<Value = Message> {
    (
        any::<bool>(),
        proptest::option::of(1i64..4),
        proptest::bool::weighted(0.2),
        1i64..9,
        proptest::option::of(0usize..4),
        0i64..6,
        0i64..3,
        0i64..3,
    )
        .prop_map(
            |(courier, from_id, started, order_id, stage, secs, frac, day)| Message {
                courier,
                from_id,
                started,
                order_id,
                stage: stage.map(|i| STAGES[i]),
                time: BASE
                    + day * 86_400_000_000
                    + secs * 1_000_000
                    + frac * 250_000
                    + (order_id % 3) * 43_000_000_000,
            },
        )
}

/// `m` as a record of a source file in `format` (0 JSON, 1 NDJSON, 2 CSV, 3 Parquet). The
/// formats name the sender's platform differently, and the CSV files leave out the
/// columns the table does not use: neither may change the output.
fn record_of(m: &Message, format: usize) -> Record {
    let sender = match (format, m.courier) {
        (0..=2, true) => "Courier iOS",
        (0 | 1, false) => "Customer Android",
        (_, true) => "Courier Android",
        (_, false) => "Customer iOS",
    };
    let field = |key: &str, value: Value| (key.to_string(), value);
    let time = Value::from(format_rfc3339_micros(m.time));
    let from_id = m.from_id.map_or(Value::Null, Value::from);
    let stage = m.stage.map_or(Value::Null, Value::from);
    Record(if format == 2 {
        vec![
            field("orderId", m.order_id.into()),
            field("messageSentTime", time),
            field("senderAppType", sender.into()),
            field("fromId", from_id),
            field("chatStartedByMessage", m.started.into()),
            field("orderStage", stage),
        ]
    } else {
        vec![
            field("senderAppType", sender.into()),
            field("customerId", 1.into()),
            field("fromId", from_id),
            field("toId", 2.into()),
            field("chatStartedByMessage", m.started.into()),
            field("orderId", m.order_id.into()),
            field("orderStage", stage),
            field("courierId", 3.into()),
            field("messageSentTime", time),
        ]
    })
}

fn write_messages(path: &Path, format: usize, messages: &[Message]) {
    let records: Vec<Record> = messages.iter().map(|m| record_of(m, format)).collect();
    match format {
        0 => write_json(&records, &path.with_extension("json")),
        1 => write_ndjson(&records, &path.with_extension("ndjson")),
        2 => write_csv(&records, &path.with_extension("csv")),
        _ => write_parquet(
            Table::ChatMessages,
            &records,
            &path.with_extension("parquet"),
            false,
        ),
    }
    .unwrap();
}

/// The spec, written as plainly as possible: sort each order's messages by the total
/// order, take the first and the last.
fn reference(messages: &[Message], cities: &BTreeMap<i64, &str>) -> Vec<String> {
    let mut by_order: BTreeMap<i64, Vec<&Message>> = BTreeMap::new();
    for m in messages {
        by_order.entry(m.order_id).or_default().push(m);
    }
    let mut rows = Vec::new();
    for (order_id, mut ms) in by_order {
        let Some(city) = cities.get(&order_id) else {
            continue;
        };
        ms.sort_by_key(|m| (m.time, !m.started, !m.courier, m.from_id, m.stage));
        let first = ms[0];
        let last = ms[ms.len() - 1];
        let first_of = |courier: bool| {
            ms.iter()
                .filter(|m| m.courier == courier)
                .map(|m| m.time)
                .min()
        };
        let (fc, fu) = (first_of(true), first_of(false));
        let other = if first.courier { fu } else { fc };
        let ts = |t: Option<i64>| t.map(format_rfc3339_micros).unwrap_or_default();
        let day = first.time.div_euclid(86_400_000_000);
        let date = ccc_transform::date_string(day);
        rows.push((
            date.clone(),
            order_id,
            format!(
                "{date},{order_id},{city},{},{},{},{},{},{},{},{},{}",
                ts(fc),
                ts(fu),
                ms.iter().filter(|m| m.courier).count(),
                ms.iter().filter(|m| !m.courier).count(),
                if first.courier { "courier" } else { "customer" },
                ts(Some(first.time)),
                other
                    .map(|t| ((t - first.time) / 1_000_000).to_string())
                    .unwrap_or_default(),
                ts(Some(last.time)),
                last.stage.unwrap_or("")
            ),
        ));
    }
    rows.sort();
    rows.into_iter().map(|(_, _, line)| line).collect()
}

fn write_orders(dir: &Path, cities: &BTreeMap<i64, &str>) {
    let record = |id: i64, city: &str| {
        Record(vec![
            ("cityCode".to_string(), city.into()),
            ("orderId".to_string(), id.into()),
        ])
    };
    // Each order twice: duplicated rows are one order.
    let records: Vec<Record> = cities
        .iter()
        .flat_map(|(&id, city)| [record(id, city), record(id, city)])
        .collect();
    write_csv(&records, &dir.join("orders.csv")).unwrap();
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn output_is_independent_of_threads_files_order_and_formats(
        messages in proptest::collection::vec(arb_message(), 1..60),
        cuts in proptest::collection::vec(0usize..60, 0..4),
        formats in proptest::collection::vec(0usize..4, 5),
        missing_order in 1i64..12,
        shuffle_seed in any::<u64>(),
    ) {
        let cities: BTreeMap<i64, &str> = (1..9).filter(|id| *id != missing_order).map(|id| (id, ["BCN", "LIS", "WAW"][id as usize % 3])).collect();
        let tmp = tempfile::tempdir().unwrap();

        // Layout A: one file, as generated.
        let a = tmp.path().join("a");
        fs::create_dir_all(&a).unwrap();
        write_messages(&a.join("customer_courier_chat_messages"), 1, &messages);
        write_orders(&a, &cities);

        // Layout B: shuffled, cut into several files of random formats.
        let mut shuffled = messages.clone();
        let mut state = shuffle_seed | 1;
        for i in (1..shuffled.len()).rev() {
            state ^= state << 13; state ^= state >> 7; state ^= state << 17;
            shuffled.swap(i, (state % (i as u64 + 1)) as usize);
        }
        let mut bounds: Vec<usize> = cuts.iter().map(|c| c % shuffled.len()).collect();
        bounds.push(0);
        bounds.push(shuffled.len());
        bounds.sort();
        bounds.dedup();
        let b = tmp.path().join("b");
        fs::create_dir_all(&b).unwrap();
        for (i, w) in bounds.windows(2).enumerate() {
            write_messages(&b.join(format!("customer_courier_chat_messages_{i}")), formats[i % formats.len()], &shuffled[w[0]..w[1]]);
        }
        write_orders(&b, &cities);

        let outs: Vec<_> = [("a", &a, "1", "4194304"), ("b", &b, "1", "64"), ("b", &b, "3", "4194304"), ("b", &b, "2", "64")]
            .iter()
            .enumerate()
            .map(|(i, (_, src, threads, chunk))| {
                let out = tmp.path().join(format!("out{i}"));
                let result = run_job(src, &out, &["--threads", threads, "--chunk-bytes", chunk]);
                assert!(result.status.success(), "{}", stderr(&result));
                out
            })
            .collect();
        let first = table_snapshot(&outs[0]);
        for out in &outs[1..] {
            // The quarantine lists file names, which differ between layouts; the table may not.
            let table: Vec<_> = table_snapshot(out).into_iter().filter(|(p, _)| !p.starts_with("quarantine")).collect();
            let want: Vec<_> = first.iter().filter(|(p, _)| !p.starts_with("quarantine")).cloned().collect();
            prop_assert!(table == want, "output bytes differ for {}", out.display());
        }
        let expected = reference(&messages, &cities);
        let actual = if expected.is_empty() { Vec::new() } else { table_csv(&outs[0]) };
        prop_assert_eq!(actual, expected);
    }
}
