//! The tables a suite names, bound by `ccc validate --table NAME=PATH` and read whole into
//! datasets: every table of the suite must be bound and every binding must be a table of
//! the suite, so that a typo checks nothing rather than passing.

use std::path::PathBuf;

use ccc_dq::{Dataset, Suite};
use ccc_ingest::tables::{read_table, TableRequest};
use ccc_ingest::FieldType;

use crate::exit::CliError;
use crate::quality::datasets::table_file_dataset;

/// Reads each bound table with the column types its suite declares; with `every_column`
/// (a profile), the values of columns no expectation reads too.
pub fn read_bound_tables(
    suite: &Suite,
    bindings: &[(String, PathBuf)],
    max_record_bytes: usize,
    every_column: bool,
) -> Result<Vec<Dataset>, CliError> {
    check_bindings(suite, bindings)?;
    let options = ccc_ingest::ReadOptions {
        max_record_bytes,
        ..Default::default()
    };
    bindings
        .iter()
        .map(|(name, path)| {
            let expectations = suite.tables.iter().find(|t| &t.table == name);
            let declared: Vec<(String, FieldType)> = expectations
                .into_iter()
                .flat_map(|t| &t.columns)
                .filter_map(|(column, ty)| {
                    FieldType::from_name(ty.name()).map(|ty| (column.clone(), ty))
                })
                .collect();
            let wanted: Vec<String> = expectations
                .into_iter()
                .flat_map(|t| &t.expectations)
                .flat_map(|e| e.kind.columns())
                .map(str::to_string)
                .collect();
            let request = TableRequest {
                name,
                path,
                declared: &declared,
                wanted: &wanted,
                every_column,
            };
            let table = read_table(&request, &options)?;
            if let Some((column, ty)) = table
                .unsupported
                .iter()
                .find(|(column, _)| wanted.contains(column))
            {
                return Err(CliError::Usage(format!(
                    "column {column} of table {name} is of Parquet type {ty}, which ccc does not check"
                )));
            }
            table_file_dataset(&table)
        })
        .collect()
}

fn check_bindings(suite: &Suite, bindings: &[(String, PathBuf)]) -> Result<(), CliError> {
    let suite_tables: Vec<&str> = suite.tables.iter().map(|t| t.table.as_str()).collect();
    for (i, (name, _)) in bindings.iter().enumerate() {
        if !suite_tables.contains(&name.as_str()) {
            return Err(CliError::Usage(format!(
                "--table {name}: the suite {} has no table {name} (its tables: {})",
                suite.file_name(),
                suite_tables.join(", ")
            )));
        }
        if bindings[..i].iter().any(|(earlier, _)| earlier == name) {
            return Err(CliError::Usage(format!("--table {name} is given twice")));
        }
    }
    if let Some(unbound) = suite_tables
        .iter()
        .find(|t| !bindings.iter().any(|(name, _)| name == *t))
    {
        return Err(CliError::Usage(format!(
            "the suite names table {unbound}: give its data with --table {unbound}=PATH"
        )));
    }
    Ok(())
}
