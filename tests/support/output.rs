//! The output folder read back: the table's files as bytes, its CSV and Parquet parts as
//! rows of text (Parquet values formatted the way the CSV output writes them), and the
//! quarantine's rows.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

use arrow2::array::{Array, PrimitiveArray, Utf8Array};
use arrow2::datatypes::{DataType, TimeUnit};

use super::rfc3339::format_micros;

/// The output table's columns, in file order.
pub const OUTPUT_COLUMNS: [&str; 11] = [
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
    "last_message_order_stage",
];
pub const OUTPUT_TABLE: &str = "customer_courier_conversations";
pub const PARTITION_PREFIX: &str = "conversation_date=";

/// Every file under `OUT/csv` and `OUT/parquet`, by path relative to `OUT`.
pub fn output_files(out: &Path) -> Result<BTreeMap<String, Vec<u8>>, String> {
    fn walk(root: &Path, dir: &Path, files: &mut BTreeMap<String, Vec<u8>>) -> Result<(), String> {
        let entries =
            fs::read_dir(dir).map_err(|e| format!("cannot list {}: {e}", dir.display()))?;
        for entry in entries {
            let path = entry.map_err(|e| e.to_string())?.path();
            if path.is_dir() {
                walk(root, &path, files)?;
            } else {
                let bytes =
                    fs::read(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
                let rel = path
                    .strip_prefix(root)
                    .expect("under root")
                    .to_string_lossy()
                    .into_owned();
                files.insert(rel, bytes);
            }
        }
        Ok(())
    }
    let mut files = BTreeMap::new();
    for sub in ["csv", "parquet"] {
        let dir = out.join(sub);
        if dir.is_dir() {
            walk(out, &dir, &mut files)?;
        }
    }
    Ok(files)
}

/// Reads every `root/conversation_date=YYYY-MM-DD/part-HH.<extension>` file, by date. The
/// layout is checked as the spec states it: each part holds the date's conversations that
/// started in UTC hour HH (`conversation_started_at`, the 8th column, RFC 3339), sorted by
/// `order_id`. A date's rows are returned sorted by `order_id`, whichever part they are in.
/// A missing root means no partition.
pub fn read_partitions(
    root: &Path,
    extension: &str,
    read: fn(&Path) -> Result<Vec<Vec<String>>, String>,
) -> Result<BTreeMap<String, Vec<Vec<String>>>, String> {
    let mut dates = BTreeMap::new();
    if !root.exists() {
        return Ok(dates);
    }
    let list = |dir: &Path| -> Result<Vec<(String, std::path::PathBuf)>, String> {
        let mut names = Vec::new();
        for entry in fs::read_dir(dir).map_err(|e| format!("cannot list {}: {e}", dir.display()))? {
            let entry = entry.map_err(|e| e.to_string())?;
            names.push((
                entry.file_name().to_string_lossy().into_owned(),
                entry.path(),
            ));
        }
        names.sort();
        Ok(names)
    };
    for (dir_name, dir) in list(root)? {
        let Some(date) = dir_name.strip_prefix(PARTITION_PREFIX) else {
            continue;
        };
        let mut rows: Vec<Vec<String>> = Vec::new();
        for (file, path) in list(&dir)? {
            let hour = file
                .strip_prefix("part-")
                .and_then(|f| f.strip_suffix(&format!(".{extension}")))
                .filter(|h| h.len() == 2)
                .ok_or_else(|| format!("{dir_name}/{file} is not a part-HH.{extension} file"))?;
            let part = read(&path).map_err(|e| format!("{dir_name}/{file}: {e}"))?;
            let prefix = format!("{date}T{hour}:");
            if let Some(row) = part.iter().find(|r| !r[7].starts_with(&prefix)) {
                return Err(format!(
                    "{dir_name}/{file} holds order_id {} started at {}, outside hour {hour}",
                    row[0], row[7]
                ));
            }
            let ids: Vec<i64> = part
                .iter()
                .map(|r| r[0].parse().unwrap_or(i64::MIN))
                .collect();
            if ids.windows(2).any(|w| w[0] >= w[1]) {
                return Err(format!(
                    "{dir_name}/{file} is not sorted by order_id: {ids:?}"
                ));
            }
            rows.extend(part);
        }
        rows.sort_by_key(|r| r[0].parse::<i64>().unwrap_or(i64::MIN));
        dates.insert(date.to_string(), rows);
    }
    Ok(dates)
}

pub fn read_csv_part(path: &Path) -> Result<Vec<Vec<String>>, String> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_path(path)
        .map_err(|e| format!("cannot open: {e}"))?;
    let mut rows = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let record = record.map_err(|e| format!("bad CSV: {e}"))?;
        let row: Vec<String> = record.iter().map(str::to_string).collect();
        if i == 0 {
            if row != OUTPUT_COLUMNS {
                return Err(format!("header is {row:?}, expected {OUTPUT_COLUMNS:?}"));
            }
            continue;
        }
        if row.len() != OUTPUT_COLUMNS.len() {
            return Err(format!(
                "line {} has {} fields, expected {}: {row:?}",
                i + 1,
                row.len(),
                OUTPUT_COLUMNS.len()
            ));
        }
        rows.push(row);
    }
    Ok(rows)
}

/// A Parquet part as rows of text, formatted the way the CSV output is.
pub fn read_parquet_part(path: &Path) -> Result<Vec<Vec<String>>, String> {
    use arrow2::io::parquet::read;
    let mut file = fs::File::open(path).map_err(|e| format!("cannot open: {e}"))?;
    let metadata =
        read::read_metadata(&mut file).map_err(|e| format!("bad Parquet metadata: {e}"))?;
    let schema = read::infer_schema(&metadata).map_err(|e| format!("bad Parquet schema: {e}"))?;
    let names: Vec<&str> = schema.fields.iter().map(|f| f.name.as_str()).collect();
    if names != OUTPUT_COLUMNS {
        return Err(format!(
            "columns are {names:?}, expected {OUTPUT_COLUMNS:?}"
        ));
    }
    let mut rows = Vec::new();
    for chunk in read::FileReader::new(file, metadata.row_groups, schema, None, None, None) {
        let chunk = chunk.map_err(|e| format!("cannot read: {e}"))?;
        let columns: Vec<Vec<String>> = chunk
            .arrays()
            .iter()
            .zip(&OUTPUT_COLUMNS)
            .map(|(array, name)| cells(array.as_ref()).map_err(|e| format!("column {name}: {e}")))
            .collect::<Result<_, _>>()?;
        for row in 0..chunk.len() {
            rows.push(columns.iter().map(|c| c[row].clone()).collect());
        }
    }
    Ok(rows)
}

/// Any Parquet file as its column names and rows of text (as [`cells`] writes them).
pub fn read_parquet_table(path: &Path) -> Result<(Vec<String>, Vec<Vec<String>>), String> {
    use arrow2::io::parquet::read;
    let mut file = fs::File::open(path).map_err(|e| format!("cannot open: {e}"))?;
    let metadata =
        read::read_metadata(&mut file).map_err(|e| format!("bad Parquet metadata: {e}"))?;
    let schema = read::infer_schema(&metadata).map_err(|e| format!("bad Parquet schema: {e}"))?;
    let names: Vec<String> = schema.fields.iter().map(|f| f.name.clone()).collect();
    let mut rows = Vec::new();
    for chunk in read::FileReader::new(file, metadata.row_groups, schema, None, None, None) {
        let chunk = chunk.map_err(|e| format!("cannot read: {e}"))?;
        let columns: Vec<Vec<String>> = chunk
            .arrays()
            .iter()
            .map(|array| cells(array.as_ref()))
            .collect::<Result<_, _>>()?;
        for row in 0..chunk.len() {
            rows.push(columns.iter().map(|c| c[row].clone()).collect());
        }
    }
    Ok((names, rows))
}

/// One Arrow column as CSV text: integers in decimal, timestamps as RFC 3339 UTC, null empty.
pub fn cells(array: &dyn Array) -> Result<Vec<String>, String> {
    fn text<T: ToString>(values: impl Iterator<Item = Option<T>>) -> Vec<String> {
        values
            .map(|v| v.map(|v| v.to_string()).unwrap_or_default())
            .collect()
    }
    let data_type = array.data_type().to_logical_type().clone();
    Ok(match data_type {
        DataType::Int64 => text(
            array
                .as_any()
                .downcast_ref::<PrimitiveArray<i64>>()
                .expect("i64")
                .iter(),
        ),
        DataType::Int32 => text(
            array
                .as_any()
                .downcast_ref::<PrimitiveArray<i32>>()
                .expect("i32")
                .iter(),
        ),
        DataType::Utf8 => text(
            array
                .as_any()
                .downcast_ref::<Utf8Array<i32>>()
                .expect("utf8")
                .iter(),
        ),
        DataType::LargeUtf8 => text(
            array
                .as_any()
                .downcast_ref::<Utf8Array<i64>>()
                .expect("large utf8")
                .iter(),
        ),
        DataType::Timestamp(unit, _) => {
            let values = array
                .as_any()
                .downcast_ref::<PrimitiveArray<i64>>()
                .expect("timestamp");
            let micros = |v: i64| match unit {
                TimeUnit::Second => v * 1_000_000,
                TimeUnit::Millisecond => v * 1_000,
                TimeUnit::Microsecond => v,
                TimeUnit::Nanosecond => v.div_euclid(1_000),
            };
            values
                .iter()
                .map(|v| v.map(|v| format_micros(micros(*v))).unwrap_or_default())
                .collect()
        }
        DataType::Dictionary(..) => {
            let utf8 = arrow2::compute::cast::cast(array, &DataType::Utf8, Default::default())
                .map_err(|e| e.to_string())?;
            return cells(utf8.as_ref());
        }
        DataType::Null => vec![String::new(); array.len()],
        other => return Err(format!("unexpected Arrow type {other:?}")),
    })
}

/// Data rows of a quarantine file, and what is wrong with its columns or rows.
pub fn read_quarantine(path: &Path) -> Result<(u64, Vec<String>), String> {
    let name = path
        .file_name()
        .unwrap_or_default()
        .to_string_lossy()
        .into_owned();
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .from_path(path)
        .map_err(|e| format!("cannot open OUT/quarantine/{name}: {e}"))?;
    let header = reader
        .headers()
        .map_err(|e| format!("OUT/quarantine/{name}: {e}"))?
        .clone();
    let mut problems = Vec::new();
    let position = |column: &str| header.iter().position(|h| h == column);
    for column in ["_reason", "_file", "_record", "_line"] {
        if position(column).is_none() && !header.is_empty() {
            problems.push(format!(
                "no `{column}` column in header {:?}",
                header.iter().collect::<Vec<_>>()
            ));
        }
    }
    let mut rows = 0;
    for record in reader.records() {
        let record = record.map_err(|e| format!("OUT/quarantine/{name}: {e}"))?;
        rows += 1;
        for column in ["_reason", "_file"] {
            if let Some(i) = position(column) {
                if record.get(i).unwrap_or("").is_empty() {
                    problems.push(format!("data row {rows} has an empty `{column}`"));
                }
            }
        }
    }
    Ok((rows, problems))
}
