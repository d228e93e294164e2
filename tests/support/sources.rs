//! Source files written from JSON records in each format ccc reads (JSON, NDJSON, CSV,
//! Parquet), so that one set of records can be fed to the binary in any of them.

use std::fs;
use std::path::Path;

use arrow2::array::{Array, BooleanArray, PrimitiveArray, Utf8Array};
use arrow2::chunk::Chunk;
use arrow2::datatypes::{DataType, Field, Schema, TimeUnit};
use ccc_ingest::Table;
use serde_json::Value;

use super::rfc3339::parse_rfc3339_micros;

/// A JSON object with its keys in file order (`serde_json::Map` would sort them).
#[derive(Debug, Clone)]
pub struct Record(pub Vec<(String, Value)>);

impl Record {
    /// The value of a key; null and missing are the same.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v)
            .filter(|v| !v.is_null())
    }
}

impl<'de> serde::Deserialize<'de> for Record {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Fields;
        impl<'de> serde::de::Visitor<'de> for Fields {
            type Value = Record;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<Record, A::Error> {
                let mut fields = Vec::new();
                while let Some(entry) = map.next_entry::<String, Value>()? {
                    fields.push(entry);
                }
                Ok(Record(fields))
            }
        }
        deserializer.deserialize_map(Fields)
    }
}

impl serde::Serialize for Record {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (key, value) in &self.0 {
            map.serialize_entry(key, value)?;
        }
        map.end()
    }
}

/// Every key of the records, in first-seen order.
pub fn keys(records: &[Record]) -> Vec<String> {
    let mut keys: Vec<String> = Vec::new();
    for record in records {
        for (key, _) in &record.0 {
            if !keys.contains(key) {
                keys.push(key.clone());
            }
        }
    }
    keys
}

/// A value as source text: strings as they are, everything else as JSON.
pub fn text_of(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

pub fn write_json(records: &[Record], path: &Path) -> Result<(), String> {
    let text = serde_json::to_string_pretty(records).map_err(|e| e.to_string())?;
    fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()))
}

pub fn write_ndjson(records: &[Record], path: &Path) -> Result<(), String> {
    let mut text = String::new();
    for record in records {
        text.push_str(&serde_json::to_string(record).map_err(|e| e.to_string())?);
        text.push('\n');
    }
    fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()))
}

/// Header = the union of keys; an empty field for null or missing; booleans `true`/`false`;
/// strings as they are; anything else as its JSON text.
pub fn write_csv(records: &[Record], path: &Path) -> Result<(), String> {
    let keys = keys(records);
    let err = |e: csv::Error| format!("{}: {e}", path.display());
    let mut writer = csv::Writer::from_path(path).map_err(err)?;
    writer.write_record(&keys).map_err(err)?;
    for record in records {
        writer
            .write_record(
                keys.iter()
                    .map(|k| record.get(k).map(text_of).unwrap_or_default()),
            )
            .map_err(err)?;
    }
    writer
        .flush()
        .map_err(|e| format!("{}: {e}", path.display()))
}

/// One column per key. A column of the source schema gets its type (Int64, Utf8, Boolean,
/// Timestamp(µs, UTC) parsed from the RFC 3339 text — or a naive Timestamp(µs), which the
/// spec reads as UTC, when `naive_time`) when every value fits it; otherwise, and for unknown
/// fields, it is a Utf8 column of the values' text, which the reader parses.
pub fn write_parquet(
    table: Table,
    records: &[Record],
    path: &Path,
    naive_time: bool,
) -> Result<(), String> {
    let schema = table.schema();
    let types: Vec<(String, DataType)> = schema
        .fields
        .iter()
        .map(|f| match &f.data_type {
            DataType::Timestamp(unit, _) if naive_time => {
                (f.name.clone(), DataType::Timestamp(*unit, None))
            }
            other => (f.name.clone(), other.clone()),
        })
        .collect();
    write_parquet_typed(records, &types, path)
}

/// One column per key, of its type in `types` (Int64, Float64, Date32, Boolean, Utf8 or
/// Timestamp(µs)) when every value fits it, else Utf8 of the values' text.
pub fn write_parquet_typed(
    records: &[Record],
    types: &[(String, DataType)],
    path: &Path,
) -> Result<(), String> {
    let mut fields = Vec::new();
    let mut arrays: Vec<Box<dyn Array>> = Vec::new();
    for key in keys(records) {
        let values: Vec<Option<&Value>> = records.iter().map(|r| r.get(&key)).collect();
        let declared = types.iter().find(|(name, _)| *name == key).map(|(_, t)| t);
        let array = declared
            .and_then(|t| typed_array(t, &values))
            .unwrap_or_else(|| {
                let text: Vec<Option<String>> = values.iter().map(|v| v.map(text_of)).collect();
                Utf8Array::<i32>::from(text).boxed()
            });
        fields.push(Field::new(key, array.data_type().clone(), true));
        arrays.push(array);
    }
    ccc_transform::publish::parquet_file::write_parquet(
        path,
        &Schema::from(fields),
        vec![Chunk::new(arrays)],
    )
    .map_err(|e| e.to_string())
}

/// The column in its schema type, if every non-null value fits it.
fn typed_array(data_type: &DataType, values: &[Option<&Value>]) -> Option<Box<dyn Array>> {
    fn all<T>(
        values: &[Option<&Value>],
        convert: impl Fn(&Value) -> Option<T>,
    ) -> Option<Vec<Option<T>>> {
        values
            .iter()
            .map(|v| v.map_or(Some(None), |v| convert(v).map(Some)))
            .collect()
    }
    Some(match data_type {
        DataType::Int64 => PrimitiveArray::<i64>::from(all(values, Value::as_i64)?).boxed(),
        DataType::Float64 => PrimitiveArray::<f64>::from(all(values, Value::as_f64)?).boxed(),
        DataType::Date32 => {
            let days = all(values, |v| {
                let text = v.as_str().filter(|t| t.len() == 10)?;
                i32::try_from(ccc_dq::time::parse_date(text.as_bytes())?).ok()
            })?;
            PrimitiveArray::<i32>::from(days)
                .to(DataType::Date32)
                .boxed()
        }
        DataType::Boolean => BooleanArray::from(all(values, Value::as_bool)?).boxed(),
        DataType::Utf8 => {
            Utf8Array::<i32>::from(all(values, |v| v.as_str().map(str::to_string))?).boxed()
        }
        DataType::Timestamp(TimeUnit::Microsecond, _) => {
            let micros = all(values, |v| v.as_str().and_then(parse_rfc3339_micros))?;
            PrimitiveArray::<i64>::from(micros)
                .to(data_type.clone())
                .boxed()
        }
        _ => return None,
    })
}
