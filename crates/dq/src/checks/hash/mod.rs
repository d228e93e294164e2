//! Checks that look across rows through hash tables: uniqueness of a column or of a
//! combination of columns, one value of B per value of A, and membership in another
//! table's column. Each makes one pass to build a table and one pass to count rows.

mod compound;
mod dependency;
mod lookup;
mod shared;
mod unique;

pub(crate) use compound::compound_unique;
pub(crate) use dependency::functionally_dependent;
pub(crate) use lookup::{in_other_table, KeyLookup};
pub(crate) use unique::unique;
