//! Tables other than ccc's sources, for `ccc validate --table NAME=PATH`: a file or a
//! folder of CSV (with a header), JSON, NDJSON and Parquet files, Hive partition folders
//! (`key=value`) becoming columns. Parquet files bring their column types; text columns
//! take the types the caller declares (a suite's `columns:` map) and are strings
//! otherwise. The readers are the sources' own, so values that do not fit their column
//! become nulls and [`FieldProblem`]s located by file, record and line, as for the sources.

mod files;

use std::path::Path;

use arrow2::chunk::Chunk;
use arrow2::datatypes::DataType;
use rayon::prelude::*;

pub use files::{table_files, TableFile};

use crate::discover::Format;
use crate::error::IngestError;
use crate::problems::FieldProblem;
use crate::read::columns::TableBuilder;
use crate::read::{self, ReadOptions};
use crate::schema::{FieldType, TableLayout};
use crate::sources::Batch;

/// A table to read.
#[derive(Debug, Clone, Copy)]
pub struct TableRequest<'a> {
    /// Its name, for the layout and messages.
    pub name: &'a str,
    /// A file, or a folder of files.
    pub path: &'a Path,
    /// Column types the caller declares: they win over a Parquet file's own types; text
    /// columns not declared are strings.
    pub declared: &'a [(String, FieldType)],
    /// Columns the caller reads the values of. A JSON file does not say which columns it
    /// has before all its records are read, so a table with JSON files has these and the
    /// declared ones; a Parquet file's other columns are left unread where its statistics
    /// prove every value present ([`crate::Batch::unread`]).
    pub wanted: &'a [String],
    /// Read the values of every column, whatever `wanted` says (a profile shows them
    /// all); a JSON file's columns are still the declared and wanted ones.
    pub every_column: bool,
}

/// A table read whole.
#[derive(Debug)]
pub struct ReadTable {
    /// Its columns: the files' (CSV headers and Parquet schemas in file order, then the
    /// declared and wanted ones for JSON files), then the partition keys.
    pub layout: TableLayout,
    /// Its files; [`Batch::file`] and [`FieldProblem::file`] index them.
    pub files: Vec<TableFile>,
    /// The rows, in file order, then record order.
    pub batches: Vec<Batch>,
    /// Values that did not fit their column.
    pub problems: Vec<FieldProblem>,
    /// Parquet columns of a type ccc does not check (decimals, lists, structs, binary),
    /// not read: `(column, type)`.
    pub unsupported: Vec<(String, String)>,
}

/// Reads the table `request` names, its files in parallel; the first unreadable file (in
/// file order) is the error.
pub fn read_table(
    request: &TableRequest<'_>,
    options: &ReadOptions,
) -> Result<ReadTable, IngestError> {
    let files = table_files(request.name, request.path)?;
    let (columns, unsupported) = columns_of(request, &files, options)?;
    let layout = TableLayout::interned(request.name, &columns);
    let per_file: Vec<Result<read::FileContents, IngestError>> = files
        .par_iter()
        .enumerate()
        .map(|(i, file)| {
            let needed =
                |column: &str| request.every_column || request.wanted.iter().any(|w| w == column);
            let (mut batches, problems) = read::read_layout_file_needing(
                i as u32,
                &file.path,
                file.format,
                layout,
                options,
                &needed,
            )?;
            for batch in &mut batches {
                fill_partitions(batch, file, layout)?;
            }
            Ok((batches, problems))
        })
        .collect();
    let mut table = ReadTable {
        layout,
        files,
        batches: Vec::new(),
        problems: Vec::new(),
        unsupported,
    };
    for contents in per_file {
        let (batches, problems) = contents?;
        table.batches.extend(batches);
        table.problems.extend(problems);
    }
    Ok(table)
}

/// The table's columns and types, and the Parquet columns it cannot hold.
type Columns = (Vec<(String, FieldType)>, Vec<(String, String)>);

fn columns_of(
    request: &TableRequest<'_>,
    files: &[TableFile],
    options: &ReadOptions,
) -> Result<Columns, IngestError> {
    let partition_keys: Vec<&str> = files[0]
        .partitions
        .iter()
        .map(|(k, _)| k.as_str())
        .collect();
    let mut columns: Vec<(String, Option<FieldType>)> = Vec::new();
    let mut unsupported: Vec<(String, String)> = Vec::new();
    let mut add = |name: &str, ty: Option<FieldType>, file: &TableFile| {
        if partition_keys.contains(&name) {
            return Err(IngestError::PartitionClash {
                path: file.path.clone(),
                column: name.to_string(),
            });
        }
        if !columns.iter().any(|(n, _)| n == name) {
            columns.push((name.to_string(), ty));
        }
        Ok(())
    };
    for file in files {
        match file.format {
            Format::Csv => {
                for name in read::csv_header(&file.path, options)? {
                    add(&name, None, file)?;
                }
            }
            Format::Parquet => {
                for field in read::parquet_schema(&file.path)?.fields {
                    match field_type_of(&field.data_type) {
                        Some(ty) => add(&field.name, Some(ty), file)?,
                        None if !unsupported.iter().any(|(n, _)| *n == field.name) => {
                            unsupported
                                .push((field.name.clone(), format!("{:?}", field.data_type)));
                        }
                        None => {}
                    }
                }
            }
            Format::Json | Format::Ndjson => {}
        }
    }
    if let Some(json) = files
        .iter()
        .find(|f| matches!(f.format, Format::Json | Format::Ndjson))
    {
        let names = request
            .declared
            .iter()
            .map(|(name, _)| name)
            .chain(request.wanted);
        for name in names.filter(|n| !partition_keys.contains(&n.as_str())) {
            add(name, None, json)?;
        }
    }
    for key in &partition_keys {
        columns.push((key.to_string(), None));
    }
    unsupported.retain(|(name, _)| !columns.iter().any(|(n, _)| n == name));
    let typed = columns
        .into_iter()
        .map(|(name, found)| {
            let declared = request.declared.iter().find(|(n, _)| *n == name);
            let ty = declared
                .map(|(_, t)| *t)
                .or(found)
                .unwrap_or(FieldType::Utf8);
            (name, ty)
        })
        .collect();
    Ok((typed, unsupported))
}

/// The column type a Parquet file's Arrow type is read as, if ccc checks it.
fn field_type_of(data_type: &DataType) -> Option<FieldType> {
    Some(match data_type.to_logical_type() {
        DataType::Int8
        | DataType::Int16
        | DataType::Int32
        | DataType::Int64
        | DataType::UInt8
        | DataType::UInt16
        | DataType::UInt32
        | DataType::UInt64 => FieldType::Int64,
        DataType::Float32 | DataType::Float64 => FieldType::Float64,
        DataType::Boolean => FieldType::Boolean,
        DataType::Utf8 | DataType::LargeUtf8 => FieldType::Utf8,
        DataType::Timestamp(..) => FieldType::Timestamp,
        DataType::Date32 | DataType::Date64 => FieldType::Date,
        DataType::Dictionary(_, values, _) => return field_type_of(values),
        _ => return None,
    })
}

/// Puts the file's partition values into their columns of `batch` (read as nulls: the
/// files do not hold them).
fn fill_partitions(
    batch: &mut Batch,
    file: &TableFile,
    layout: TableLayout,
) -> Result<(), IngestError> {
    if file.partitions.is_empty() {
        return Ok(());
    }
    let mut arrays = batch.chunk.arrays().to_vec();
    for (key, value) in &file.partitions {
        let Some(index) = layout.column_index(key) else {
            continue;
        };
        let ty = layout.columns[index].1;
        let mut column = TableBuilder::single(ty, batch.len());
        for _ in 0..batch.len() {
            match value {
                None => column.push_null(),
                Some(text) => {
                    column
                        .push_text(text, false)
                        .map_err(|_| IngestError::PartitionValue {
                            path: file.path.clone(),
                            column: key.clone(),
                            value: text.clone(),
                            expected: ty.name(),
                        })?
                }
            }
        }
        arrays[index] = column.finish_one();
    }
    batch.chunk = Chunk::new(arrays);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow2::array::{Array, BooleanArray, PrimitiveArray, Utf8Array};
    use arrow2::datatypes::{Field, Schema};

    fn declared() -> Vec<(String, FieldType)> {
        [
            ("id", FieldType::Int64),
            ("price", FieldType::Float64),
            ("day", FieldType::Date),
            ("ok", FieldType::Boolean),
            ("at", FieldType::Timestamp),
        ]
        .map(|(n, t)| (n.to_string(), t))
        .to_vec()
    }

    fn read(path: &Path, wanted: &[&str]) -> ReadTable {
        let declared = declared();
        let wanted: Vec<String> = wanted.iter().map(|w| w.to_string()).collect();
        let request = TableRequest {
            name: "sales",
            path,
            declared: &declared,
            wanted: &wanted,
            every_column: false,
        };
        read_table(&request, &ReadOptions::default()).unwrap()
    }

    /// Column `name` of the whole table, each value as text (nulls as `-`).
    fn column(table: &ReadTable, name: &str) -> Vec<String> {
        let i = table.layout.column_index(name).unwrap();
        let mut out = Vec::new();
        for batch in &table.batches {
            let array = batch.chunk.arrays()[i].as_ref();
            for row in 0..array.len() {
                out.push(if array.is_null(row) {
                    "-".to_string()
                } else {
                    text(array, row)
                });
            }
        }
        out
    }

    fn text(array: &dyn Array, row: usize) -> String {
        let any = array.as_any();
        if let Some(a) = any.downcast_ref::<PrimitiveArray<i64>>() {
            return a.value(row).to_string();
        }
        if let Some(a) = any.downcast_ref::<PrimitiveArray<f64>>() {
            return a.value(row).to_string();
        }
        if let Some(a) = any.downcast_ref::<PrimitiveArray<i32>>() {
            return a.value(row).to_string();
        }
        if let Some(a) = any.downcast_ref::<BooleanArray>() {
            return a.value(row).to_string();
        }
        any.downcast_ref::<Utf8Array<i32>>()
            .unwrap()
            .value(row)
            .to_string()
    }

    const CSV: &str = "id,name,price,day,ok,at\n\
        1,pen,1.5,2024-01-02,true,2024-01-02T10:00:00Z\n\
        2,ink,,2024-01-03,false,2024-01-03T00:00:00+01:00\n\
        3,cap,two,2024-02-30,maybe,noon\n";

    fn write_parquet(path: &Path) {
        use arrow2::io::parquet::write::*;
        let schema = Schema::from(vec![
            Field::new("id", DataType::Int32, true),
            Field::new("name", DataType::Utf8, true),
            Field::new("price", DataType::Float32, true),
            Field::new("day", DataType::Date32, true),
            Field::new("ok", DataType::Boolean, true),
            Field::new("at", FieldType::Timestamp.data_type(), true),
        ]);
        let chunk = Chunk::new(vec![
            PrimitiveArray::<i32>::from([Some(1), Some(2), Some(3)]).boxed(),
            Utf8Array::<i32>::from([Some("pen"), Some("ink"), Some("cap")]).boxed(),
            PrimitiveArray::<f32>::from([Some(1.5), None, None]).boxed(),
            PrimitiveArray::<i32>::from([Some(19724), Some(19725), None])
                .to(DataType::Date32)
                .boxed(),
            BooleanArray::from([Some(true), Some(false), None]).boxed(),
            PrimitiveArray::<i64>::from([
                Some(1_704_189_600_000_000),
                Some(1_704_236_400_000_000),
                None,
            ])
            .to(FieldType::Timestamp.data_type())
            .boxed(),
        ]);
        let options = WriteOptions {
            write_statistics: true,
            compression: CompressionOptions::Uncompressed,
            version: Version::V2,
            data_pagesize_limit: None,
        };
        let encodings = schema
            .fields
            .iter()
            .map(|f| transverse(&f.data_type, |_| Encoding::Plain))
            .collect();
        let groups =
            RowGroupIterator::try_new(vec![Ok(chunk)].into_iter(), &schema, options, encodings)
                .unwrap();
        let file = std::fs::File::create(path).unwrap();
        let mut writer = FileWriter::try_new(file, schema, options).unwrap();
        for group in groups {
            writer.write(group.unwrap()).unwrap();
        }
        writer.end(None).unwrap();
    }

    #[test]
    fn every_format_reads_the_same_table() {
        let dir = tempfile::tempdir().unwrap();
        let csv = dir.path().join("sales.csv");
        std::fs::write(&csv, CSV).unwrap();
        let ndjson = dir.path().join("sales.ndjson");
        std::fs::write(
            &ndjson,
            "{\"id\":1,\"name\":\"pen\",\"price\":1.5,\"day\":\"2024-01-02\",\"ok\":true,\"at\":\"2024-01-02T10:00:00Z\"}\n\
             {\"id\":2,\"name\":\"ink\",\"price\":null,\"day\":\"2024-01-03\",\"ok\":false,\"at\":\"2024-01-03T00:00:00+01:00\"}\n\
             {\"id\":3,\"name\":\"cap\",\"price\":\"two\",\"day\":\"2024-02-30\",\"ok\":\"maybe\",\"at\":\"noon\"}\n",
        )
        .unwrap();
        let json = dir.path().join("sales.json");
        let records: Vec<serde_json::Value> = std::fs::read_to_string(&ndjson)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        std::fs::write(&json, serde_json::to_string_pretty(&records).unwrap()).unwrap();
        let parquet = dir.path().join("sales.parquet");
        write_parquet(&parquet);

        let names = ["id", "name", "price", "day", "ok", "at"];
        let want = [
            vec!["1", "2", "3"],
            vec!["pen", "ink", "cap"],
            vec!["1.5", "-", "-"],
            vec!["19724", "19725", "-"],
            vec!["true", "false", "-"],
            vec!["1704189600000000", "1704236400000000", "-"],
        ];
        for path in [&csv, &ndjson, &json, &parquet] {
            let table = read(path, &names);
            for (name, want) in names.iter().zip(&want) {
                assert_eq!(column(&table, name), *want, "{name} of {}", path.display());
            }
            let bad: Vec<(u64, &str, &str)> = table
                .problems
                .iter()
                .map(|p| (p.record, p.column, p.raw.as_str()))
                .collect();
            if path == &parquet {
                assert!(bad.is_empty());
            } else {
                assert_eq!(
                    bad,
                    [
                        (3, "price", "two"),
                        (3, "day", "2024-02-30"),
                        (3, "ok", "maybe"),
                        (3, "at", "noon")
                    ],
                    "{}",
                    path.display()
                );
            }
        }
        let csv_table = read(&csv, &[]);
        let csv_names: Vec<&str> = csv_table.layout.columns.iter().map(|c| c.0).collect();
        assert_eq!(csv_names, names, "a CSV table's columns are its header's");
        let parquet_table = read(&parquet, &["price"]);
        assert_eq!(column(&parquet_table, "price"), want[2]);
        let unread: Vec<usize> = parquet_table.batches[0].unread.clone();
        assert_eq!(
            unread,
            [1],
            "name, not wanted and complete by its statistics, is left unread"
        );
    }

    #[test]
    fn hive_partition_values_become_typed_columns() {
        let dir = tempfile::tempdir().unwrap();
        for (day, rows) in [("2024-01-02", "id\n1\n2\n"), ("2024-01-03", "id\n3\n")] {
            let folder = dir.path().join(format!("day={day}")).join("region=EU%2FW");
            std::fs::create_dir_all(&folder).unwrap();
            std::fs::write(folder.join("part-0.csv"), rows).unwrap();
        }
        let table = read(dir.path(), &[]);
        let names: Vec<&str> = table.layout.columns.iter().map(|c| c.0).collect();
        assert_eq!(names, ["id", "day", "region"]);
        assert_eq!(table.layout.columns[1].1, FieldType::Date, "declared");
        assert_eq!(table.layout.columns[2].1, FieldType::Utf8, "undeclared");
        assert_eq!(column(&table, "id"), ["1", "2", "3"]);
        assert_eq!(column(&table, "day"), ["19724", "19724", "19725"]);
        assert_eq!(column(&table, "region"), ["EU/W", "EU/W", "EU/W"]);
        assert_eq!(
            table.files[1].name,
            "day=2024-01-03/region=EU%2FW/part-0.csv"
        );

        let odd = dir.path().join("day=someday").join("region=EU");
        std::fs::create_dir_all(&odd).unwrap();
        std::fs::write(odd.join("part-0.csv"), "id\n4\n").unwrap();
        let declared = declared();
        let request = TableRequest {
            name: "sales",
            path: dir.path(),
            declared: &declared,
            wanted: &[],
            every_column: false,
        };
        let err = read_table(&request, &ReadOptions::default())
            .unwrap_err()
            .to_string();
        assert!(
            err.ends_with("partition value day=someday is not a valid date"),
            "{err}"
        );
    }

    #[test]
    fn a_partition_key_inside_the_files_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let folder = dir.path().join("id=1");
        std::fs::create_dir_all(&folder).unwrap();
        std::fs::write(folder.join("a.csv"), "id,name\n1,pen\n").unwrap();
        let request = TableRequest {
            name: "sales",
            path: dir.path(),
            declared: &[],
            wanted: &[],
            every_column: false,
        };
        let err = read_table(&request, &ReadOptions::default())
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("column id is both a partition folder"),
            "{err}"
        );
    }
}
